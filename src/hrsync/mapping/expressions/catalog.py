"""Every function of the language: its canonical name, how many arguments it takes, and the
Python function that computes it. The parser checks calls against this table; the evaluator
runs what it names."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from hrsync.mapping.expressions import choices, dates, replace, text
from hrsync.mapping.expressions.arguments import Arguments
from hrsync.mapping.expressions.nodes import Expression
from hrsync.mapping.expressions.values import Value


@dataclass(frozen=True, slots=True)
class Signature:
    usage: str
    compute: Callable[[Arguments], Value]
    min_arguments: int
    max_arguments: int | None
    problem: Callable[[tuple[Expression, ...]], str | None] | None = None
    """A check beyond the count, returning a message for the admin when the call is wrong."""
    is_whole_expression_only: bool = False


def _switch_problem(arguments: tuple[Expression, ...]) -> str | None:
    if len(arguments) % 2:
        return (
            "Switch needs an odd number of arguments after the value: a default, then pairs "
            f"of key and result; it has {len(arguments) - 1}"
        )
    return None


def _replace_problem(arguments: tuple[Expression, ...]) -> str | None:
    if replace.replace_mode(arguments) is None:
        return (
            "Replace needs either Replace(value, old, new), or in Entra's seven positions: "
            "oldValue with replacementValue or template, or regexPattern with replacementValue "
            "(and optionally regexGroupName), or regexPattern, regexGroupName and "
            "replacementAttributeName"
        )
    return None


FUNCTIONS: dict[str, Signature] = {
    "Append": Signature("Append(value, suffix)", text.append, 2, 2),
    "AppendNumber": Signature("AppendNumber(value, number[, last])", text.append_number, 2, 3),
    "CDate": Signature("CDate(value)", dates.cdate, 1, 1),
    "Coalesce": Signature("Coalesce(value1, value2, …)", choices.coalesce, 1, None),
    "DateAdd": Signature("DateAdd(interval, number, date)", dates.date_add, 3, 3),
    "FormatDateTime": Signature(
        "FormatDateTime(value, inputFormat, outputFormat)", dates.format_date_time, 3, 4
    ),
    "IIF": Signature("IIF(condition, ifTrue, ifFalse)", choices.iif, 3, 3),
    "IsNullOrEmpty": Signature("IsNullOrEmpty(value)", text.is_null_or_empty, 1, 1),
    "IsPresent": Signature("IsPresent(value)", text.is_present, 1, 1),
    "Item": Signature("Item(values, index)", text.item, 2, 2),
    "Join": Signature("Join(separator, value1, value2, …)", text.join, 2, None),
    "Left": Signature("Left(value, count)", text.left, 2, 2),
    "Mid": Signature("Mid(value, start, length)", text.mid, 3, 3),
    "NormalizeDiacritics": Signature("NormalizeDiacritics(value)", text.normalize_diacritics, 1, 1),
    "Not": Signature("Not(condition)", text.negate, 1, 1),
    "Now": Signature("Now()", dates.now, 0, 0),
    "ProperCase": Signature("ProperCase(value[, separators])", text.proper_case, 1, 2),
    "Replace": Signature(
        "Replace(value, old, new)", replace.replace, 3, 7, problem=_replace_problem
    ),
    "Right": Signature("Right(value, count)", text.right, 2, 2),
    "SelectUniqueValue": Signature(
        "SelectUniqueValue(candidate1, candidate2, …)",
        choices.select_unique_value,
        2,
        None,
        is_whole_expression_only=True,
    ),
    "Split": Signature("Split(value, delimiter)", text.split, 2, 2),
    "StripSpaces": Signature("StripSpaces(value)", text.strip_spaces, 1, 1),
    "Switch": Signature(
        "Switch(value, default, key1, result1, …)", choices.switch, 4, None, problem=_switch_problem
    ),
    "ToLower": Signature("ToLower(value)", text.to_lower, 1, 1),
    "ToUpper": Signature("ToUpper(value)", text.to_upper, 1, 1),
    "Trim": Signature("Trim(value)", text.trim, 1, 1),
}

# Other spellings for the same function: Entra's name first.
ALIASES = {"PCase": "ProperCase"}

# Entra functions hrsync does not offer, so the message says so instead of "unknown".
ENTRA_ONLY = frozenset(
    {
        "AppRoleAssignmentsComplex",
        "BitAnd",
        "CBool",
        "ConvertToBase64",
        "ConvertToUTF8Hex",
        "Count",
        "CStr",
        "DateDiff",
        "DateFromNum",
        "Guid",
        "IgnoreFlowIfNullOrEmpty",
        "InStr",
        "IsNull",
        "IsString",
        "NumFromDate",
        "RandomString",
        "Redact",
        "RemoveDuplicates",
        "SingleAppRoleAssignment",
        "Word",
    }
)

_BY_FOLDED_NAME = {name.casefold(): name for name in FUNCTIONS} | {
    alias.casefold(): name for alias, name in ALIASES.items()
}


def canonical_name(name: str) -> str | None:
    """The function's name as the catalog spells it; names are not case-sensitive."""
    return _BY_FOLDED_NAME.get(name.casefold())


def unknown_function_message(name: str) -> str:
    if name.casefold() in {entra.casefold() for entra in ENTRA_ONLY}:
        return f"{name} is a Microsoft Entra function that hrsync does not offer"
    close = difflib.get_close_matches(name.casefold(), list(_BY_FOLDED_NAME), n=1, cutoff=0.6)
    if close:
        return f"unknown function '{name}' — did you mean {_BY_FOLDED_NAME[close[0]]}?"
    return f"unknown function '{name}'; docs/mapping.md lists the functions"


def arity_problem(name: str, count: int) -> str | None:
    """A message when `count` arguments do not fit the function, else None."""
    signature = FUNCTIONS[name]
    low, high = signature.min_arguments, signature.max_arguments
    if low <= count and (high is None or count <= high):
        return None
    if high is None:
        wanted = f"at least {low} arguments"
    elif low == high:
        wanted = "no arguments" if low == 0 else f"{low} argument{'s' * (low != 1)}"
    else:
        wanted = f"{low} to {high} arguments"
    return f"{name} takes {wanted} — {signature.usage} — but has {count}"
