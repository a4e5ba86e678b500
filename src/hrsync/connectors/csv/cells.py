"""What goes into one cell: formula injection neutralised and control characters removed, so a
file opened in Excel or LibreOffice shows values and runs nothing (OWASP "CSV injection")."""

from __future__ import annotations

import re

from hrsync.connectors.csv.formats import Column

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Every control character but tab, which is neutralised at the start and harmless inside."""


def cell(value: str, column: Column) -> str:
    """`value` safe to write: control characters dropped, a formula start behind a `'`
    (except a phone column's `+`, which the rules allow and no spreadsheet evaluates alone)."""
    if value.startswith(FORMULA_STARTS) and not (column.is_phone and value.startswith("+")):
        value = "'" + value
    return CONTROL.sub("", value)
