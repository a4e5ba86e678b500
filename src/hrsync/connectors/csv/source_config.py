"""The settings of one CSV source, validated when they are loaded."""

from __future__ import annotations

from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator

from hrsync.connectors.csv.source_formats import (
    SOURCE_FORMATS,
    SourceFormat,
    declared_format,
    is_known_field,
)
from hrsync.connectors.files.sftp_config import SftpFields

Mode = Literal["add", "replace"]
Delimiter = Literal[";", ",", "\t"]


class CsvSourceConfig(SftpFields):
    """Which columns the file has, which names the person, how an upload is applied, and
    (for a scheduled pickup) which folder files arrive in.

    `format` is a preset; a `columns` table (CSV column → person field) replaces it.
    Encoding and separator are sniffed from the file unless declared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["flexwhere", "ad_export"] = "flexwhere"
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="CSV column → person field (given_name, email, org.Department, custom.X…).",
    )
    key: str = Field(
        "",
        description="The column whose value is the person id; default: the "
        "preset's username column.",
    )
    mode: Mode = Field("add", description="add: add and update; replace: missing people leave.")
    encoding: str = Field("", description="Declared encoding (utf-8, cp1252…); empty: sniffed.")
    delimiter: Delimiter | Literal[""] = Field(
        "", description="Declared separator; empty: sniffed."
    )
    delivery: Literal["upload", "folder", "sftp"] = Field(
        "upload",
        description="upload: files come from the console, API or CLI; folder or sftp: picked up "
        "on the source's schedule (SFTP with the CSV target's keys: host, username, "
        "host_key_sha256, remote_dir, one credential).",
    )
    folder: str = Field("", description="Where files arrive (delivery = folder).")
    time_zone: str = Field("Europe/Stockholm", description="Whose calendar day a leaver ends on.")

    @field_validator("columns")
    @classmethod
    def _check_columns(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = [f"{c} = {f!r}" for c, f in columns.items() if not is_known_field(f)]
        if unknown:
            raise ValueError(f"unknown person field in {', '.join(unknown)}")
        return {c.strip(): f.strip() for c, f in columns.items()}

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str) -> str:
        if value:
            try:
                "".encode(value)
            except LookupError as exc:
                raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _check_key_and_folder(self) -> Self:
        if self.columns and not self.key and "username" not in self.columns.values():
            raise ValueError("with a columns table, name the key column (or map one to username)")
        if self.key and self.key.casefold() not in {c.casefold() for c in self.file_columns()}:
            raise ValueError(f"key {self.key!r} is not one of the columns")
        if self.delivery == "folder" and not self.folder:
            raise ValueError("delivery = folder needs folder")
        if self.delivery == "sftp":
            self.require_sftp()
        return self

    def file_columns(self) -> list[str]:
        if self.columns:
            return list(self.columns)
        return [name for c in SOURCE_FORMATS[self.format].columns for name in c.spellings()]

    def source_format(self) -> SourceFormat:
        """The columns of the file, the key column made mandatory."""
        if self.columns:
            username = next((c for c, f in self.columns.items() if f == "username"), "")
            return declared_format(self.columns, self.key or username)
        preset = SOURCE_FORMATS[self.format]
        if not self.key:
            return preset
        column = preset.column(self.key)
        return SourceFormat(
            preset.name, preset.label, preset.columns, column.name if column else self.key
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
