"""An admin's own columns for a CSV target: `[connections.KEY.columns]`, one entry per column in
file order, each its mapping expression (a string) or a table with the expression and the rules
(mandatory, min and max length, a pattern, a value list, cut to length). The file keeps the
preset's dialect (`format`: separator, quoting, line ends); `key` names the column that must be
unique, `file_name` the file.

```toml
[connections.fw.columns]
CSV_USERNAME = { expression = "[email]", mandatory = true, min_length = 2, max_length = 255 }
CSV_NAME = { expression = 'Join(" ", [given_name], [family_name])', max_length = 40, cut = true }
CSV_DEPARTMENT = "[org.Department]"
```
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hrsync.connectors.csv.formats import FORMATS, Column, FileFormat

COLUMN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


class ColumnSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    expression: str = Field(min_length=1, max_length=4000)
    mandatory: bool = False
    min_length: int = Field(0, ge=0, le=10_000)
    max_length: int | None = Field(None, ge=1, le=10_000)
    pattern: str | None = Field(None, max_length=500)
    values: tuple[str, ...] = ()
    cut: bool = False
    """Shorten a value longer than max_length instead of leaving the row out."""
    phone: bool = False
    """A leading + is a country code, not a formula."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"pattern {pattern!r} is not a regular expression: {error}"
                ) from None
        return pattern


class FileFormatSettings(BaseModel):
    """The part of a CSV target's settings that says what the file holds."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    format: Literal["flexwhere", "winningtemp"] = "flexwhere"
    columns: dict[str, str | ColumnSettings] = Field(default_factory=dict)
    key: str | None = None
    file_name: str | None = Field(None, min_length=1, max_length=255, pattern=r"^[^/\\\x00]+$")

    @model_validator(mode="after")
    def _columns_hold_the_key(self) -> Self:
        for name in self.columns:
            if not COLUMN_NAME.match(name):
                raise ValueError(f"column {name!r}: letters, digits and _, from a letter")
        if self.columns and self.key is not None and self.key not in self.columns:
            raise ValueError(f"key {self.key!r} is not one of the columns")
        return self

    def file_format(self) -> FileFormat:
        """The preset, or the admin's columns in the preset's dialect."""
        preset = FORMATS[self.format]
        if not self.columns:
            return dataclasses.replace(preset, file_name=self.file_name or preset.file_name)
        columns = tuple(_column(name, value) for name, value in self.columns.items())
        key = self.key or (preset.key if preset.key in self.columns else columns[0].name)
        return dataclasses.replace(
            preset,
            name="custom",
            file_name=self.file_name or preset.file_name,
            columns=columns,
            key=key,
            correlation=((key, "email"),) if key else (),
            groups=None,
        )


def _column(name: str, value: str | ColumnSettings) -> Column:
    if isinstance(value, str):
        return Column(name, value)
    return Column(
        name,
        value.expression,
        is_mandatory=value.mandatory or False,
        min_length=value.min_length,
        max_length=value.max_length,
        allowed=value.pattern,
        values=value.values,
        is_cut=value.cut,
        is_phone=value.phone,
    )


def file_format_of(settings: dict[str, Any]) -> FileFormat:
    """The file format a connection's stored settings give (before the rest is complete)."""
    return FileFormatSettings.model_validate(settings).file_format()
