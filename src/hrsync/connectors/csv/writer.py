"""Rows to file bytes in a format's dialect: `;`, every field quoted where the format says,
quotes doubled (RFC 4180), each cell neutralised (hrsync.connectors.csv.cells)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from hrsync.connectors.csv.cells import cell
from hrsync.connectors.csv.formats import Column, FileFormat


def render(file_format: FileFormat, rows: Iterable[Mapping[str, str]]) -> bytes:
    """The users file: a header and one line per row, UTF-8 without a BOM."""
    columns = file_format.columns
    return _render(
        file_format,
        [c.name for c in columns],
        ([cell(row.get(c.name) or "", c) for c in columns] for row in rows),
    )


def render_table(
    file_format: FileFormat, header: Sequence[str], rows: Iterable[Sequence[str]]
) -> bytes:
    """Another file of the format (groups, removals) in its dialect, every cell neutralised
    as an ordinary text column."""
    plain = {name: Column(name, "") for name in header}
    return _render(
        file_format,
        list(header),
        (
            [cell(value, plain[name]) for name, value in zip(header, row, strict=True)]
            for row in rows
        ),
    )


def _render(file_format: FileFormat, header: list[str], lines: Iterable[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(
        out,
        delimiter=file_format.delimiter,
        lineterminator=file_format.line_end,
        quoting=csv.QUOTE_ALL if file_format.is_all_quoted else csv.QUOTE_MINIMAL,
        doublequote=True,
    )
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue().encode("utf-8")
