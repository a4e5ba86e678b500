"""The settings of one CSV target, validated when they are loaded."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from hrsync.connectors.csv.columns import ColumnSettings, FileFormatSettings
from hrsync.connectors.csv.formats import FileFormat
from hrsync.connectors.files.sftp_config import SftpFields


class CsvConfig(SftpFields):
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
            self.require_sftp()
        return self
