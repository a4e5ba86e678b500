"""CSV downloads streamed row by row, with cells a spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from hrsync.app.runs.plan_diff import safe_cell


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[Iterable[Any]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines: Iterator[str] = (writer.writerow([_cell(value) for value in row]) for row in rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value: Any) -> str:
    """Quoted when a spreadsheet would run it as a formula (CSV injection)."""
    return safe_cell(None if value is None else str(value))


CSV_OPENAPI: dict[str, Any] = {
    "responses": {
        "200": {
            "description": "CSV, with a header line",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}
"""The `openapi_extra` of an operation answering CSV."""
