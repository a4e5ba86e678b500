"""The settings of one CSV target, validated when they are loaded."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hrsync.connectors.csv.columns import ColumnSettings, FileFormatSettings
from hrsync.connectors.csv.formats import FileFormat
from hrsync.connectors.files.sftp import normalise_fingerprint

SFTP_CREDENTIALS = ("key_file", "key_env", "private_key", "password")


class CsvConfig(BaseModel):
    """Which format, where the file goes, and where hrsync keeps its copy of the last file.

    `state_dir` holds the file last delivered and its checksum: it is the account store, so a
    run plans only what changed since that delivery. `delivery = "folder"` writes to `folder`;
    `"sftp"` uploads to `remote_dir` on `host`, whose key must match `host_key_sha256`, logging
    in with exactly one of `key_file`, `key_env` (an environment variable holding the key's
    text), or the connection's secret (`password`, or `private_key` when `auth = "key"`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["flexwhere", "winningtemp"] = "flexwhere"
    columns: dict[str, str | ColumnSettings] = Field(
        default_factory=dict,
        description="The admin's own columns (hrsync.connectors.csv.columns); empty: the preset's.",
    )
    key: str | None = Field(None, description="With columns: the column unique across rows.")
    file_name: str | None = Field(None, description="The file's name; default: the preset's.")
    delivery: Literal["folder", "sftp"] = "folder"
    folder: str | None = Field(None, description="Where the file is written (delivery = folder).")
    state_dir: str = Field(
        "",
        description="Where hrsync keeps its copy of the last delivery; by default "
        "$HRSYNC_HOME/connections/KEY-ID.",
    )
    contents: Literal["full", "delta"] = Field(
        "full",
        description="full: every row each time; delta: only rows created or changed since "
        "the last delivery, with a removals file.",
    )
    receipt: bool = Field(False, description="Also deliver NAME.sha256 next to the file.")

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

    def file_format(self) -> FileFormat:
        """What the file holds: the preset, or the admin's columns in its dialect."""
        fields = {"format", "columns", "key", "file_name"}
        return FileFormatSettings.model_validate(self.model_dump(include=fields)).file_format()

    @model_validator(mode="after")
    def _has_what_its_delivery_needs(self) -> CsvConfig:
        FileFormatSettings.model_validate(
            self.model_dump(include={"format", "columns", "key", "file_name"})
        )
        if self.delivery == "folder" and not self.folder:
            raise ValueError("delivery = folder needs folder (where the file is written)")
        if self.delivery == "sftp":
            _require_sftp(self)
        return self

    @property
    def sftp_credentials(self) -> list[str]:
        """The SFTP credentials given, by setting name."""
        return [name for name in SFTP_CREDENTIALS if _is_given(getattr(self, name))]


def _is_given(value: str | SecretStr | None) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


def _require_sftp(config: CsvConfig) -> None:
    missing = [n for n in ("host", "username", "host_key_sha256") if not getattr(config, n)]
    if missing:
        hint = (
            " (`ssh-keyscan -p PORT HOST | ssh-keygen -lf -` prints the server's fingerprint;"
            " confirm it with the server's admin)"
            if "host_key_sha256" in missing
            else ""
        )
        raise ValueError(f"delivery = sftp needs {', '.join(missing)}{hint}")
    given = config.sftp_credentials
    if len(given) != 1:
        raise ValueError(
            "delivery = sftp needs exactly one credential: key_file, key_env, or a password or "
            f"private key as the connection's secret (given: {', '.join(given) or 'none'})"
        )
