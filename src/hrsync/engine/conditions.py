"""Conditions on named fields (`{field, op, value}`, combined with all/any): one vocabulary and
one evaluation for trigger rules (event fields) and connection scopes (person fields)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

Scalar = str | int | float | bool
ConditionValue = Scalar | tuple[Scalar, ...] | None
"""What a condition compares with; a tuple for `in` and for list fields."""

BOOLEAN_FIELDS: Final = frozenset({"created", "is_external", "is_transient"})
"""Fields holding true or false, in any subject: "yes"/"no" compare as true/false there."""
LIST_FIELDS: Final = frozenset({"changed_fields", "reasons"})
"""Fields holding a list, in any subject."""

OPERATORS: Final = (
    "equals",
    "not_equals",
    "in",
    "contains",
    "starts_with",
    "is_empty",
    "is_not_empty",
)
VALUELESS_OPERATORS: Final = frozenset({"is_empty", "is_not_empty"})
MATCHES: Final = ("all", "any")

_TRUE_WORDS = {"true": "true", "yes": "true", "false": "false", "no": "false"}


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: ConditionValue = None


# --- evaluation -----------------------------------------------------------------------------


def conditions_hold(
    match: str, conditions: Sequence[Condition], subject: Mapping[str, object]
) -> bool:
    """Whether all (or, with match "any", any) conditions hold; none at all always do.

    Never raises: a missing field counts as empty, an unknown operator never holds.
    """
    if not conditions:
        return True
    holds = (condition_holds(condition, subject) for condition in conditions)
    return any(holds) if match == "any" else all(holds)


def condition_holds(condition: Condition, subject: Mapping[str, object]) -> bool:
    """Compared as trimmed, case-folded text; a list field holds when its items do."""
    actual = subject.get(condition.field)
    if condition.op in VALUELESS_OPERATORS:
        return _is_empty(actual) is (condition.op == "is_empty")
    expected = _normalised_all(condition.field, condition.value)
    found = _normalised_all(condition.field, actual)
    is_list = isinstance(actual, list | tuple | set | frozenset)
    match condition.op:
        case "equals":
            return set(found) == set(expected) if is_list else found == expected
        case "not_equals":
            return set(found) != set(expected) if is_list else found != expected
        case "in":
            return any(item in expected for item in found)
        case "contains":
            haystack = found if is_list else found[0]
            return all(needle in haystack for needle in expected)
        case "starts_with":
            return any(item.startswith(prefix) for item in found for prefix in expected)
    return False


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | set | frozenset) and not value


def _normalised_all(field_name: str, value: object) -> tuple[str, ...]:
    """Every value as comparable text: a scalar gives one item, a list one item per element."""
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(_normalised(field_name, item) for item in value)
    return (_normalised(field_name, value),)


def _normalised(field_name: str, value: object) -> str:
    """Trimmed and case-folded; true/false/yes/no as "true"/"false" on boolean fields."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = as_text(value).strip().casefold()
    return _TRUE_WORDS.get(text, text) if field_name in BOOLEAN_FIELDS else text


def as_text(value: object) -> str:
    """Any value as text, "" for None; never raises."""
    if value is None:
        return ""
    try:
        return str(value)
    except Exception:  # a subject comes from anywhere: an int too long to print, a broken __str__
        return ""


def describe_condition(condition: Condition) -> str:
    """The condition as an admin wrote it, e.g. `employment_type not_equals "Konsult"`."""
    if condition.op in VALUELESS_OPERATORS or condition.value is None:
        return f"{condition.field} {condition.op}"
    value = condition.value
    shown = json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    return f"{condition.field} {condition.op} {shown}"


# --- validation -----------------------------------------------------------------------------


def condition_problems(condition: Condition) -> list[str]:
    """What is wrong with the operator and value, in words an admin understands (the field is
    the caller's to check: each kind of subject has its own fields)."""
    op, value, name = condition.op, condition.value, condition.field
    if op not in OPERATORS:
        return [f"unknown operator '{op}'{hint(op, OPERATORS)}"]
    if op in VALUELESS_OPERATORS:
        return [] if value is None else [f"the operator '{op}' takes no value"]
    if value is None:
        return [f"the operator '{op}' needs a value"]
    if op == "in" and not isinstance(value, tuple):
        return ['the operator \'in\' takes a list of values, e.g. value = ["joiner", "rehire"]']
    if isinstance(value, tuple) and op != "in" and name not in LIST_FIELDS:
        return [f"the operator '{op}' takes one value; use 'in' to compare with a list"]
    if name in BOOLEAN_FIELDS:
        return _boolean_problems(condition)
    return []


def _boolean_problems(condition: Condition) -> list[str]:
    if condition.op in ("contains", "starts_with"):
        return [
            f"the operator '{condition.op}' does not apply to '{condition.field}' (true or false)"
        ]
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    wrong = [v for v in values if _normalised(condition.field, v) not in ("true", "false")]
    return [f"the field '{condition.field}' is true or false, not '{v}'" for v in wrong]


def hint(word: str, choices: Iterable[str]) -> str:
    """A suggestion like " (did you mean 'source'?)", or the choices when nothing is close."""
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (known: {', '.join(options)})" if options else " (none is configured)"


# --- reading conditions from stored JSON ----------------------------------------------------


def condition_from_json(raw: Mapping[str, object]) -> Condition:
    """A condition from `{field, op, value?}`; ValueError when the shape is wrong."""
    name, op = raw.get("field"), raw.get("op")
    if not isinstance(name, str) or not isinstance(op, str):
        raise ValueError("a condition needs a field and an op, both text")
    return Condition(name, op, as_condition_value(raw.get("value")))


def as_condition_value(value: object) -> ConditionValue:
    """The value in a condition's own terms; raises ValueError for anything else."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        items = [item for item in value if isinstance(item, str | int | float | bool)]
        if len(items) == len(value):
            return tuple(items)
    raise ValueError("a condition's value is text, a number, true/false or a list of those")
