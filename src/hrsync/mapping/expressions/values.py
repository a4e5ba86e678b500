"""The values expressions compute with, and how one kind is read as another.

Text is the common currency, as in Entra. A few functions produce other kinds: IsPresent and
comparisons give True/False, number literals give whole numbers, Now/DateAdd/CDate give a date
and time, Split and AppendNumber give several values. None is empty: a missing field, an omitted
argument, or a function with empty input.
"""

from __future__ import annotations

import re
from datetime import datetime

from hrsync.mapping.expressions.errors import EvaluationError
from hrsync.mapping.expressions.limits import MAX_NUMBER_DIGITS

Value = str | bool | int | datetime | tuple[str, ...] | None
Result = str | tuple[str, ...] | None

_WHOLE_NUMBER = re.compile(rf"\s*-?[0-9]{{1,{MAX_NUMBER_DIGITS}}}\s*")


def is_empty(value: Value) -> bool:
    return value is None or value in ("", ())


def text_of(value: Value, function: str | None) -> str | None:
    """One value as text: True/False, digits, ISO 8601 for a date. Several values are an error."""
    match value:
        case None | str():
            return value
        case bool():
            return "True" if value else "False"
        case int():
            return str(value)
        case datetime():
            return value.isoformat(timespec="seconds")
        case tuple():
            raise EvaluationError(
                f"expects one value but got a list of {len(value)} (from Split or AppendNumber); "
                "pick one with Item(…, 1)",
                function,
            )


def integer_of(value: Value, function: str, what: str) -> int:
    """A whole number, from a number literal or text like "12"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = text_of(value, function)
    if text is None or not _WHOLE_NUMBER.fullmatch(text):
        shown = "nothing" if not text else f'"{shorten(text)}"'
        raise EvaluationError(f"{what} must be a whole number, but got {shown}", function)
    return int(text)


def condition_of(value: Value, function: str) -> bool:
    """True or False, from a comparison, IsPresent, "true"/"false" text or a number (0 is false).
    Empty counts as false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = text_of(value, function)
    if not text or text.strip().lower() == "false":
        return False
    if text.strip().lower() == "true":
        return True
    raise EvaluationError(
        f'the condition gave "{shorten(text)}", which is neither true nor false; '
        'compare it instead, e.g. [field] = "value"',
        function,
    )


def result_of(value: Value) -> Result:
    """The value a mapping receives: text, several texts, or None."""
    if isinstance(value, tuple):
        return value
    return text_of(value, None)


def shorten(text: str, limit: int = 60) -> str:
    """Text short enough for a message or a lineage step."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
