"""File formats as data: the columns of a CSV file, each with its mapping expression and rules,
and the presets an admin starts from (`flexwhere` from seed 004's column table, `winningtemp`
from its file integration, research/vendor-apis.md §3.2)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

PHONE = r"[0-9+\-() ]*"
"""Seed 004: phone numbers hold only digits and `+-() `."""
EMAIL = r"[^@\s;\"]+@[^@\s;\"]+\.[A-Za-z]{2,}"
MANAGER = "manager"
GROUP = "group"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a file: its header, how its value is computed, and the rules a value must
    keep for the row to be written (a row that breaks one is left out, never half-valid)."""

    name: str
    expression: str
    is_mandatory: bool = False
    min_length: int = 0
    max_length: int | None = None
    allowed: str | None = None
    """A regular expression a (non-empty) value must match as a whole."""
    values: tuple[str, ...] = ()
    """The only values allowed (EHBO: 1 or 0); empty: any."""
    is_cut: bool = False
    """A value longer than `max_length` is shortened rather than refused (the display name)."""
    is_phone: bool = False
    """A leading `+` is a country code here, not a formula."""
    derived: str = ""
    """Filled by hrsync, not by a mapping expression: `MANAGER` (the manager's row key) or
    `GROUP` (the id of the group of the person's lowest organisation unit)."""

    def broken_rule(self, value: str) -> str | None:
        """Which rule `value` breaks, in words; None when it keeps them all."""
        if not value:
            return "is mandatory and empty" if self.is_mandatory else None
        if len(value) < self.min_length:
            return f"is shorter than {self.min_length} characters"
        if self.max_length is not None and len(value) > self.max_length:
            return f"is longer than {self.max_length} characters"
        if self.allowed is not None and _compiled(self.allowed).fullmatch(value) is None:
            return f"does not match {self.allowed}"
        if self.values and value not in self.values:
            return f"is not one of {', '.join(self.values)}"
        return None


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True, slots=True)
class GroupsFile:
    """The file of groups beside the users file (Winningtemp): one row per organisation unit,
    with its id, name and parent's id; a user row names its unit's id."""

    file_name: str
    id_column: str = "ExternalId"
    name_column: str = "Name"
    parent_column: str = "ParentExternalId"

    @property
    def columns(self) -> tuple[str, str, str]:
        return (self.id_column, self.name_column, self.parent_column)


@dataclass(frozen=True, slots=True)
class FileFormat:
    """A delivered file: its name, dialect and columns; `key` is the column naming a row."""

    name: str
    label: str
    file_name: str
    columns: tuple[Column, ...]
    key: str
    delimiter: str = ";"
    line_end: str = "\r\n"
    is_all_quoted: bool = True
    groups: GroupsFile | None = None
    """The groups file, for formats that have one."""
    correlation: tuple[tuple[str, str], ...] = ()
    """(column, person field) pairs a row made by someone else is matched by, in order."""

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def mapped(self) -> tuple[Column, ...]:
        """The columns a mapping expression fills (not those hrsync derives)."""
        return tuple(c for c in self.columns if not c.derived)

    def derived_column(self, derived: str) -> str | None:
        """The column hrsync fills with `derived` (MANAGER, GROUP); None when there is none."""
        return next((c.name for c in self.columns if c.derived == derived), None)

    @property
    def removals_file_name(self) -> str:
        """Delta delivery: the keys of rows removed since the last delivery."""
        stem, dot, suffix = self.file_name.rpartition(".")
        return f"{stem} - removed.{suffix}" if dot else f"{self.file_name} - removed"


FLEXWHERE = FileFormat(
    name="flexwhere",
    label="Flexwhere (CSV)",
    file_name="flexwhere - users.csv",
    key="CSV_USERNAME",
    correlation=(("CSV_USERNAME", "email"), ("CSV_EMAIL", "email")),
    columns=(
        Column("CSV_USERNAME", "[email]", is_mandatory=True, min_length=2, max_length=255),
        Column("CSV_FIRSTNAME", "[given_name]", is_mandatory=True, min_length=2, max_length=255),
        Column("CSV_SURNAME", "[family_name]", is_mandatory=True, min_length=2, max_length=255),
        Column(
            "CSV_DISPLAYNAME",
            'Trim(Join(", ", [family_name], [given_name]))',
            max_length=20,
            is_cut=True,
        ),
        Column("CSV_TITLE", "[title]", max_length=255),
        Column("CSV_PHONE", "[phone]", max_length=50, allowed=PHONE, is_phone=True),
        Column("CSV_MOBILE", "[mobile]", max_length=50, allowed=PHONE, is_phone=True),
        Column("CSV_DEPARTMENT", "[org.Department]", max_length=255),
        Column("CSV_EMAIL", "[email]", is_mandatory=True, max_length=255, allowed=EMAIL),
        Column("CSV_EHBO", '"0"', values=("1", "0")),
        Column("CSV_BHV", '"0"', values=("1", "0")),
        Column("CSV_PROFILEPHOTO", '""', max_length=1024),
    ),
)
WINNINGTEMP = FileFormat(
    name="winningtemp",
    label="Winningtemp (CSV)",
    file_name="users.csv",
    key="ExternalId",
    correlation=(("ExternalId", "employee_number"), ("Email", "email")),
    line_end="\n",
    is_all_quoted=False,
    columns=(
        Column("ExternalId", "[employee_number]", is_mandatory=True),
        Column("Email", "[email]", is_mandatory=True, allowed=EMAIL),
        Column("FirstName", "[given_name]", is_mandatory=True),
        Column("LastName", "[family_name]", is_mandatory=True),
        Column(
            "Gender",
            'IIF([custom.gender] = "1", "Male", IIF([custom.gender] = "2", "Female", "None"))',
            values=("Male", "Female", "None"),
        ),
        Column("Birthday", "[birth_date]", allowed=r"\d{4}-\d{2}-\d{2}"),
        Column("ManagerExternalId", "", derived=MANAGER),
        Column(
            "ExcludeFromSurveys",
            'IIF([employment_type] = "External Personnel", "true", "false")',
            values=("true", "false"),
        ),
        Column("GroupExternalId", "", derived=GROUP),
    ),
    groups=GroupsFile("groups.csv"),
)
FORMATS: Mapping[str, FileFormat] = MappingProxyType(
    {FLEXWHERE.name: FLEXWHERE, WINNINGTEMP.name: WINNINGTEMP}
)
