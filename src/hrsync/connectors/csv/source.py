"""A CSV file as a PersonSource: the file's bytes read into persons and set-aside rows.

The file itself comes from an upload or a Drop (hrsync.connectors.files); this class only
reads what it is given. Without a file, `read_people` says how to give it one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

from hrsync.connectors.csv.person_rows import RowContext, clean, excerpt, read_row
from hrsync.connectors.csv.reading import CsvFileError, Dialect, Row, header_problem, read_csv
from hrsync.connectors.csv.source_config import CsvSourceConfig
from hrsync.connectors.csv.source_formats import SourceColumn, SourceFormat
from hrsync.connectors.files.drop import Drop, FolderDrop
from hrsync.domain.errors import SourceError, TargetError
from hrsync.domain.ids import PersonId
from hrsync.domain.person import InvalidRecord, Person


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """What one file held: its persons and set-aside rows in file order, how it was read, and
    the key of every row (valid or not) so a replace does not make a broken row's person leave."""

    dialect: Dialect
    items: list[Person | InvalidRecord]
    listed_keys: frozenset[str]
    ignored_columns: tuple[str, ...] = ()

    @property
    def persons(self) -> list[Person]:
        return [item for item in self.items if isinstance(item, Person)]

    @property
    def invalid(self) -> list[InvalidRecord]:
        return [item for item in self.items if isinstance(item, InvalidRecord)]


class CsvSource:
    """Reads HR lists in one declared CSV format."""

    def __init__(self, config: CsvSourceConfig, key: str = "csv") -> None:
        self.config = config
        self.key = key
        self.format: SourceFormat = config.source_format().keyed()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Nothing is held open between files."""

    def check(self) -> None:
        """Raise SourceError when the pickup folder cannot be read (uploads need nothing)."""
        drop = self.drop()
        if drop is not None:
            try:
                drop.names()
            except (OSError, TargetError) as exc:
                raise SourceError(f"{drop.describe()} cannot be read: {exc}") from exc

    def describe(self) -> str:
        drop = self.drop()
        where = f"; files are picked up from {drop.describe()}" if drop else ""
        return f"{self.format.label}, key column {self.format.key}, mode {self.config.mode}{where}"

    def drop(self) -> Drop | None:
        """Where scheduled pickups look (delivery = folder or sftp); None for uploads only."""
        match self.config.delivery:
            case "folder":
                return FolderDrop(self.config.folder)
            case "sftp":
                from hrsync.connectors.files.sftp import SftpDrop  # noqa: PLC0415 (paramiko)

                return SftpDrop(self.config.sftp_settings())
            case _:
                return None

    def default_window_start(self, now: datetime) -> datetime | None:
        return None  # a file lists whom it lists; there is no modified-since window

    def read_people(self, modified_since: datetime | None) -> Iterator[Person | InvalidRecord]:
        """A CSV source is read from a file it is given (`read_file`), not fetched."""
        raise SourceError(
            f"source {self.key} is a CSV file source: import a file with "
            f"`hrsync import-file {self.key} FILE`, the console or POST /api/sources/{self.key}"
            "/uploads"
        )

    def read_file(self, content: bytes) -> ParsedFile:
        """Every row of the file as a person or a set-aside record. CsvFileError when the file
        is empty, not CSV, or lacks a mandatory column: then nothing of it may be recorded."""
        text = read_csv(content, self.config.encoding, self.config.delimiter)
        context = self._context(text.header, text.dialect.delimiter)
        seen: dict[str, int] = {}
        items: list[Person | InvalidRecord] = []
        for row in text.rows:
            item = read_row(row.line, row.values, context)
            if isinstance(item, Person):
                item = _unless_duplicate(item, row.line, row.values, seen, context)
            items.append(item)
        keys = _listed_keys(text.rows, context.key_index)
        ignored = tuple(h for h, c in zip(text.header, context.columns, strict=True) if c is None)
        return ParsedFile(text.dialect, resolve_managers(items), keys, ignored)

    def _context(self, header: Sequence[str], delimiter: str) -> RowContext:
        columns: list[SourceColumn | None] = [self.format.column(name) for name in header]
        found = {c.name for c in columns if c is not None}
        missing = [c.name for c in self.format.columns if c.is_mandatory and c.name not in found]
        if self.format.key not in found and self.format.key not in missing:
            missing.insert(0, self.format.key)
        if not found:
            hint = header_problem(header, delimiter)
            raise CsvFileError(
                f"the header names none of the columns of {self.format.label} (it reads "
                f"{_shown_header(header)}): is it the right file{hint}?"
            )
        if missing:
            raise CsvFileError(
                f"the header lacks the mandatory column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}{header_problem(header, delimiter)}"
            )
        doubled = sorted({c.name for c in columns if c and columns.count(c) > 1})
        if doubled:
            raise CsvFileError(f"the header names {', '.join(doubled)} more than once")
        key_index = next(i for i, c in enumerate(columns) if c and c.name == self.format.key)
        return RowContext(columns, header, key_index, self.key)


def _shown_header(header: Sequence[str]) -> str:
    text = ";".join(header)
    return repr(text if len(text) <= 60 else text[:59] + "…")


def _unless_duplicate(
    person: Person, line: int, values: Sequence[str], seen: dict[str, int], context: RowContext
) -> Person | InvalidRecord:
    """The first row of a key wins; a later one is set aside, naming both lines."""
    folded = person.person_id.casefold()
    first = seen.setdefault(folded, line)
    if first == line:
        return person
    column = context.header[context.key_index]
    reason = (
        f"line {line}, {column}: {person.person_id!r} is also on line {first}; "
        "the second row is set aside"
    )
    return InvalidRecord(f"line {line} ({person.person_id})", reason, excerpt(values))


def _listed_keys(rows: Sequence[Row], key_index: int) -> frozenset[str]:
    keys = (clean(r.values[key_index]) for r in rows if key_index < len(r.values))
    return frozenset(k for k in keys if k)


def resolve_managers(items: list[Person | InvalidRecord]) -> list[Person | InvalidRecord]:
    """A manager named by DN (an AD export) becomes the person id of the row with that DN;
    the DNs are then dropped. An unresolved manager is left out with a warning."""
    persons = [item for item in items if isinstance(item, Person)]
    if not any(_custom(p, "manager_dn") or _custom(p, "dn") for p in persons):
        return items
    by_dn = {dn.casefold(): p.person_id for p in persons if (dn := _custom(p, "dn"))}
    return [
        item if isinstance(item, InvalidRecord) else _with_manager(item, by_dn) for item in items
    ]


def _with_manager(person: Person, by_dn: dict[str, PersonId]) -> Person:
    manager_dn = _custom(person, "manager_dn")
    custom = tuple((k, v) for k, v in person.custom if k not in ("manager_dn", "dn"))
    manager = by_dn.get(manager_dn.casefold()) if manager_dn else None
    warnings = person.warnings
    if manager_dn and manager is None:
        warnings += (f"manager left out: {manager_dn!r} is no row of the file",)
    return dataclasses.replace(
        person, manager_id=manager or person.manager_id, custom=custom, warnings=warnings
    )


def _custom(person: Person, name: str) -> str:
    return next((v for k, v in person.custom if k == name), "")
