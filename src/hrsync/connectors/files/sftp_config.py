"""The SFTP settings a CSV target delivers with and a CSV source picks files up with, as flat
keys of their config (`host`, `username`, `host_key_sha256`, …): one definition for both."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from hrsync.connectors.files.sftp_settings import SftpSettings, normalise_fingerprint

SFTP_CREDENTIALS = ("key_file", "key_env", "private_key", "password")


class SftpFields(BaseModel):
    """The server, the pinned key and exactly one credential: `key_file`, `key_env` (an
    environment variable holding the key's text), or the secret (`password`, or `private_key`
    when `auth = "key"`)."""

    host: str | None = None
    port: int = Field(22, ge=1, le=65535)
    username: str | None = None
    key_file: str | None = Field(None, description="Path of the private key (sftp).")
    key_env: str | None = Field(None, description="Environment variable with the key's text.")
    auth: Literal["password", "key"] = Field(
        "password", description="What the connection's secret is: a password or a private key."
    )
    password: SecretStr | None = None
    private_key: SecretStr | None = None
    host_key_sha256: str | None = Field(None, description='"SHA256:…" as ssh-keygen -lf prints')
    remote_dir: str = Field(".", min_length=1)
    connect_timeout_seconds: float = Field(15.0, gt=0, le=300)
    timeout_seconds: float = Field(60.0, gt=0, le=3600)
    max_retries: int = Field(3, ge=0, le=10)
    backoff_seconds: float = Field(2.0, ge=0, le=60)

    @field_validator("host_key_sha256")
    @classmethod
    def _is_fingerprint(cls, value: str | None) -> str | None:
        return None if value is None else normalise_fingerprint(value)

    @property
    def sftp_credentials(self) -> list[str]:
        """The SFTP credentials given, by setting name."""
        return [name for name in SFTP_CREDENTIALS if _is_given(getattr(self, name))]

    def require_sftp(self) -> None:
        """ValueError (for a validator) naming what SFTP lacks."""
        missing = [n for n in ("host", "username", "host_key_sha256") if not getattr(self, n)]
        if missing:
            hint = (
                " (`ssh-keyscan -p PORT HOST | ssh-keygen -lf -` prints the server's fingerprint;"
                " confirm it with the server's admin)"
                if "host_key_sha256" in missing
                else ""
            )
            raise ValueError(f"delivery = sftp needs {', '.join(missing)}{hint}")
        given = self.sftp_credentials
        if len(given) != 1:
            raise ValueError(
                "delivery = sftp needs exactly one credential: key_file, key_env, or a password or "
                f"private key as the connection's secret (given: {', '.join(given) or 'none'})"
            )

    def sftp_settings(self) -> SftpSettings:
        """The settings SftpDrop connects with, the one credential resolved (`key_env` read
        from the environment)."""
        assert self.host and self.username and self.host_key_sha256  # validated
        (credential,) = self.sftp_credentials  # validated: exactly one
        return SftpSettings(
            host=self.host,
            port=self.port,
            username=self.username,
            key_file=self.key_file if credential == "key_file" else None,
            private_key=self._private_key(credential),
            password=self.password if credential == "password" else None,
            host_key_sha256=self.host_key_sha256,
            remote_dir=self.remote_dir,
            connect_timeout_seconds=self.connect_timeout_seconds,
            timeout_seconds=self.timeout_seconds,
            max_retries=self.max_retries,
            backoff_seconds=self.backoff_seconds,
        )

    def _private_key(self, credential: str) -> SecretStr | None:
        if credential == "private_key":
            return self.private_key
        if credential != "key_env" or not self.key_env:
            return None
        value = os.environ.get(self.key_env)
        if not value:
            from hrsync.connectors.files.sftp_errors import SftpAuthError  # noqa: PLC0415

            raise SftpAuthError(f"the environment variable {self.key_env} (key_env) is not set")
        return SecretStr(value)


def _is_given(value: str | SecretStr | None) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


__all__ = ["SFTP_CREDENTIALS", "SftpFields"]
