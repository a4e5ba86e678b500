"""Functions that choose: only the arguments they need are evaluated, and each choice is noted
as a lineage step ("why is Anna in OU=Sales?")."""

from __future__ import annotations

from hrsync.mapping.expressions.arguments import Arguments
from hrsync.mapping.expressions.errors import EvaluationError
from hrsync.mapping.expressions.values import Value, is_empty, shorten


def iif(arguments: Arguments) -> Value:
    """IIF(condition, ifTrue, ifFalse). An empty condition is false (Entra rejects it instead)."""
    holds = arguments.condition(0)
    arguments.note(f"IIF: {arguments.describe(0)} is {'true' if holds else 'false'}")
    return arguments.value(1 if holds else 2)


def switch(arguments: Arguments) -> Value:
    """Switch(value, default, key1, result1, …): the result of the first key equal to the value
    (case-sensitive; empty matches the key ""), else the default."""
    source = arguments.text(0) or ""
    for index in range(2, len(arguments), 2):
        if (arguments.text(index) or "") == source:
            arguments.note(
                f'Switch: {arguments.describe(0)} is "{shorten(source)}", which matches the key '
                f"{arguments.describe(index)}"
            )
            return arguments.value(index + 1)
    arguments.note(
        f'Switch: {arguments.describe(0)} is "{shorten(source)}", which matches no key; '
        f"the default {arguments.describe(1) or '(empty)'} applies"
    )
    return arguments.value(1)


def coalesce(arguments: Arguments) -> Value:
    """Coalesce(value1, value2, …): the first value that is not empty ("" counts as empty)."""
    for index in range(len(arguments)):
        if not is_empty(value := arguments.value(index)):
            arguments.note(f"Coalesce: took argument {index + 1}, {arguments.describe(index)}")
            return value
    arguments.note("Coalesce: every argument was empty")
    return None


def select_unique_value(arguments: Arguments) -> Value:
    """SelectUniqueValue(candidate1, candidate2, …): the first candidate the target does not
    already hold for this attribute. Empty candidates are skipped; lists are tried in order."""
    context = arguments.context
    tried: list[str] = []
    for index in range(len(arguments)):
        candidates = list(arguments.texts(index))
        if not candidates:
            arguments.note(f"SelectUniqueValue: candidate {index + 1} is empty")
        for candidate in candidates:
            if not context.is_taken(context.target_attribute, candidate):
                arguments.note(f'SelectUniqueValue: chose "{candidate}" (argument {index + 1})')
                return candidate
            arguments.note(f'SelectUniqueValue: "{candidate}" is taken')
            tried.append(candidate)
    shown = ", ".join(f'"{shorten(c, 40)}"' for c in tried[:5]) + (", …" if len(tried) > 5 else "")
    raise EvaluationError(
        f"every candidate is taken ({shown or 'all were empty'})", "SelectUniqueValue"
    )
