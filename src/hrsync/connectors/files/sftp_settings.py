"""SFTP settings as data, apart from the client (hrsync.connectors.files.sftp), so a config that
names an SFTP server is validated without loading paramiko: a folder delivery never pays for it."""

from __future__ import annotations

import base64

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

FINGERPRINT_LENGTH = 43  # base64 of a SHA-256 digest without its "=" padding
CREDENTIALS = ("key_file", "private_key", "password")


class SftpSettings(BaseModel):
    """Where the drop is and how to log in. The host key is pinned by its SHA256 fingerprint,
    as `ssh-keygen -lf` prints it; exactly one credential is given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(22, ge=1, le=65535)
    username: str = Field(min_length=1)
    key_file: str | None = Field(None, description="Path of an OpenSSH or PEM private key.")
    private_key: SecretStr | None = Field(None, description="The private key's text.")
    password: SecretStr | None = None
    host_key_sha256: str = Field(description='"SHA256:…", as `ssh-keygen -lf` prints it.')
    remote_dir: str = Field(".", min_length=1)
    connect_timeout_seconds: float = Field(15.0, gt=0, le=300)
    timeout_seconds: float = Field(60.0, gt=0, le=3600)
    """How long one read or write on an open session may wait."""
    max_retries: int = Field(3, ge=0, le=10)
    backoff_seconds: float = Field(2.0, ge=0, le=60)

    @field_validator("host_key_sha256")
    @classmethod
    def _is_fingerprint(cls, value: str) -> str:
        return normalise_fingerprint(value)

    @model_validator(mode="after")
    def _has_one_credential(self) -> SftpSettings:
        given = [name for name in CREDENTIALS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(CREDENTIALS)} (given: {given})")
        return self

    @property
    def where(self) -> str:
        return f"sftp://{self.username}@{self.host}:{self.port}/{self.remote_dir}"


def normalise_fingerprint(value: str) -> str:
    """ "SHA256:…" from what an admin pastes: the fingerprint alone or a whole `ssh-keygen -lf`
    line ("256 SHA256:… host (ED25519)"), with or without base64 padding."""
    token = next((t for t in value.split() if t.startswith("SHA256:")), "")
    body = token.removeprefix("SHA256:").rstrip("=")
    if len(body) != FINGERPRINT_LENGTH or not _is_base64(body):
        raise ValueError(
            f"{value!r} is not a SHA256 host key fingerprint: paste what "
            "`ssh-keyscan HOST | ssh-keygen -lf -` prints, e.g. SHA256:uNiVz…"
        )
    return f"SHA256:{body}"


def _is_base64(body: str) -> bool:
    try:
        return len(base64.b64decode(body + "=", validate=True)) == 32
    except ValueError:
        return False
