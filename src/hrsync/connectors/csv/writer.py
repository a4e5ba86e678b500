"""Rows to file bytes in a format's dialect: `;`, every field quoted where the format says,
quotes doubled (RFC 4180), each cell neutralised (hrsync.connectors.csv.cells)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from hrsync.connectors.csv.cells import cell
from hrsync.connectors.csv.formats import FileFormat


def render(file_format: FileFormat, rows: Iterable[Mapping[str, str]]) -> bytes:
    """The file: a header and one line per row, UTF-8 without a BOM."""
    out = io.StringIO(newline="")
    writer = csv.writer(
        out,
        delimiter=file_format.delimiter,
        lineterminator=file_format.line_end,
        quoting=csv.QUOTE_ALL if file_format.is_all_quoted else csv.QUOTE_MINIMAL,
        doublequote=True,
    )
    columns = file_format.columns
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow([cell(row.get(c.name) or "", c) for c in columns])
    return out.getvalue().encode("utf-8")
