"""The canonical text of an expression: `parse(format_expression(e)) == e` for every parsed `e`."""

from __future__ import annotations

from typing import assert_never

from hrsync.mapping.expressions.nodes import (
    Call,
    Comparison,
    Expression,
    Field,
    Number,
    Omitted,
    Text,
)


def format_expression(expression: Expression) -> str:
    """One line, arguments separated by ", ", operators spaced, quotes doubled inside text."""
    match expression:
        case Field(name):
            return f"[{name}]"
        case Text(value):
            return quote(value)
        case Number(value):
            return str(value)
        case Omitted():
            return ""
        case Call(function, arguments):
            return f"{function}({', '.join(map(format_expression, arguments))})"
        case Comparison(operator, left, right):
            return f"{format_expression(left)} {operator} {format_expression(right)}"
        case _:
            assert_never(expression)


def quote(value: str) -> str:
    """A string literal: a quote is doubled, a backslash is written \\\\ so it cannot escape."""
    return '"' + value.replace("\\", "\\\\").replace('"', '""') + '"'
