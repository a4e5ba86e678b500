"""The expression tree: frozen values that `parse` builds, `format_expression` prints and
`evaluate` walks. Equal trees mean equal expressions (positions are not part of a node)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Field:
    """`[given_name]`: a person field, read at evaluation time (missing reads as empty)."""

    name: str


@dataclass(frozen=True, slots=True)
class Text:
    """`"Sales"`: a string literal, already unescaped."""

    value: str


@dataclass(frozen=True, slots=True)
class Number:
    """`3` or `-10`: a whole number literal."""

    value: int


@dataclass(frozen=True, slots=True)
class Omitted:
    """An argument left empty, as in Entra's `Switch([x], , "a", "b")`: evaluates as empty."""


@dataclass(frozen=True, slots=True)
class Call:
    """`Left([given_name], 1)`: a function by its canonical name, with its arguments."""

    function: str
    arguments: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    """`[country] = "SE"`: true or false; operators =, <>, <, <=, >, >=."""

    operator: str
    left: Expression
    right: Expression


Expression = Field | Text | Number | Omitted | Call | Comparison

COMPARISON_OPERATORS = ("=", "<>", "<", "<=", ">", ">=")


def fields_of(expression: Expression) -> tuple[str, ...]:
    """Every field the expression may read, in the order written, each once: what a plan's
    lineage shows beside a value (a superset of what one evaluation reads, e.g. both branches
    of an IIF, which is what an admin asks about)."""
    found: dict[str, None] = {}
    pending: list[Expression] = [expression]
    while pending:
        match pending.pop():
            case Field(name):
                found.setdefault(name)
            case Call(_, arguments):
                pending.extend(reversed(arguments))
            case Comparison(_, left, right):
                pending.extend((right, left))
            case Text() | Number() | Omitted():
                pass
    return tuple(found)
