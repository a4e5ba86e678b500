"""Rows to a file in a format's dialect: `;`, every field quoted where the format says, quotes
doubled (RFC 4180), each cell neutralised (hrsync.connectors.csv.cells). Written row by row
into an open file, so a file of 100,000 rows is never held in memory whole."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

from hrsync.connectors.csv.cells import cell
from hrsync.connectors.csv.formats import Column, FileFormat


def render(file_format: FileFormat, rows: Iterable[Mapping[str, str | None]]) -> bytes:
    """The users file as bytes, UTF-8 without a BOM (for a file small enough to hold)."""
    out = io.StringIO(newline="")
    write_users(out, file_format, rows)
    return out.getvalue().encode("utf-8")


def write_users(
    out: TextIO, file_format: FileFormat, rows: Iterable[Mapping[str, str | None]]
) -> None:
    """The users file into `out` (opened with newline=""): a header and a line per row."""
    columns = file_format.columns
    lines = ([cell(row.get(c.name) or "", c) for c in columns] for row in rows)
    _write(out, file_format, [c.name for c in columns], lines)


def write_table(
    out: TextIO, file_format: FileFormat, header: Sequence[str], rows: Iterable[Sequence[str]]
) -> None:
    """Another file of the format (groups, removals) in its dialect, every cell neutralised
    as an ordinary text column."""
    plain = {name: Column(name, "") for name in header}
    lines = ([cell(v, plain[n]) for n, v in zip(header, row, strict=True)] for row in rows)
    _write(out, file_format, list(header), lines)


def _write(
    out: TextIO, file_format: FileFormat, header: list[str], lines: Iterable[list[str]]
) -> None:
    writer = csv.writer(
        out,
        delimiter=file_format.delimiter,
        lineterminator=file_format.line_end,
        quoting=csv.QUOTE_ALL if file_format.is_all_quoted else csv.QUOTE_MINIMAL,
        doublequote=True,
    )
    writer.writerow(header)
    writer.writerows(lines)
