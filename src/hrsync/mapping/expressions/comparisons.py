"""Comparisons: =, <>, <, <=, >, >=.

Whole numbers compare as numbers ("9" < "10"); a date (from Now, DateAdd or CDate) compares as a
date with ISO 8601 text on the other side; True/False compare with conditions; anything else
compares as text, case-sensitively, character by character. Empty compares as "" — except with
a date, where empty is neither before, after nor equal to it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TypeVar

from hrsync.mapping.expressions.dates import read_datetime
from hrsync.mapping.expressions.errors import EvaluationError
from hrsync.mapping.expressions.values import Value, condition_of, text_of

# Each operator as a test on the sign of (left - right).
_HOLDS: dict[str, Callable[[int], bool]] = {
    "=": lambda order: order == 0,
    "<>": lambda order: order != 0,
    "<": lambda order: order < 0,
    "<=": lambda order: order <= 0,
    ">": lambda order: order > 0,
    ">=": lambda order: order >= 0,
}
_SUBJECT = "the comparison"
_Comparable = TypeVar("_Comparable", int, str, datetime)


def compare(operator: str, left: Value, right: Value, zone: tzinfo) -> bool:
    holds = _HOLDS[operator]
    if isinstance(left, bool) or isinstance(right, bool):
        if operator not in ("=", "<>"):
            raise EvaluationError(f"true and false compare only with = or <>, not {operator}")
        return holds(_order(condition_of(left, _SUBJECT), condition_of(right, _SUBJECT)))
    if isinstance(left, datetime) or isinstance(right, datetime):
        return _compare_dates(holds, operator, left, right, zone)
    left_text, right_text = text_of(left, _SUBJECT) or "", text_of(right, _SUBJECT) or ""
    if _is_whole_number(left_text) and _is_whole_number(right_text):
        return holds(_order(int(left_text), int(right_text)))
    return holds(_order(left_text, right_text))


def _order(left: _Comparable, right: _Comparable) -> int:
    return (left > right) - (left < right)


def _compare_dates(
    holds: Callable[[int], bool], operator: str, left: Value, right: Value, zone: tzinfo
) -> bool:
    left_date = read_datetime(left, zone, _SUBJECT)
    right_date = read_datetime(right, zone, _SUBJECT)
    if left_date is None or right_date is None:
        return operator == "<>"
    try:
        return holds(_order(left_date, right_date))
    except OverflowError:
        raise EvaluationError("these dates cannot be compared (a year outside 1 to 9999)") from None


def _is_whole_number(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    return 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit()
