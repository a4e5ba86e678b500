"""Expression tree to value, for one person, recording which fields were read and why."""

from __future__ import annotations

from datetime import UTC
from typing import assert_never

from hrsync.mapping.expressions.arguments import Arguments
from hrsync.mapping.expressions.catalog import FUNCTIONS
from hrsync.mapping.expressions.comparisons import compare
from hrsync.mapping.expressions.context import Evaluated, EvaluationContext
from hrsync.mapping.expressions.errors import EvaluationError
from hrsync.mapping.expressions.limits import MAX_VALUE_LENGTH
from hrsync.mapping.expressions.nodes import (
    Call,
    Comparison,
    Expression,
    Field,
    Number,
    Omitted,
    Text,
)
from hrsync.mapping.expressions.person_fields import field_value
from hrsync.mapping.expressions.values import Value, result_of


def evaluate(expression: Expression, context: EvaluationContext) -> Evaluated:
    """The value of a parsed expression for the person in `context`.

    Raises EvaluationError (naming the function) when a value cannot be computed: a date that
    does not fit its format, a pattern that is invalid or too slow, a value over the length
    limit, every SelectUniqueValue candidate taken. Never evaluates Python code.
    """
    run = _Evaluation(context)
    value = run.value_of(expression)
    return Evaluated(result_of(value), frozenset(run.fields_read), tuple(run.steps))


class _Evaluation:
    def __init__(self, context: EvaluationContext) -> None:
        self.context = context
        self.fields_read: set[str] = set()
        self.steps: list[str] = []

    def value_of(self, node: Expression) -> Value:
        match node:
            case Field(name):
                return self.read(name)
            case Text(value) | Number(value):
                return value
            case Omitted():
                return None
            case Comparison(operator, left, right):
                zone = self.context.now.tzinfo or UTC
                return compare(operator, self.value_of(left), self.value_of(right), zone)
            case Call(function, arguments):
                return self.call(function, arguments)
            case _:
                assert_never(node)

    def call(self, function: str, nodes: tuple[Expression, ...]) -> Value:
        signature = FUNCTIONS.get(function)
        if signature is None:
            raise EvaluationError("there is no such function", function)
        arguments = Arguments(function, nodes, self.context, self.value_of, self.steps.append)
        return _bounded(signature.compute(arguments), function)

    def read(self, name: str) -> str | None:
        """A field's value; organisation levels and custom fields match case-insensitively."""
        self.fields_read.add(name)
        value = field_value(self.context.fields, name)
        if value is not None and len(value) > MAX_VALUE_LENGTH:
            raise EvaluationError(
                f"[{name}] holds {len(value):,} characters; "
                f"values are limited to {MAX_VALUE_LENGTH:,}"
            )
        return value


def _bounded(value: Value, function: str) -> Value:
    texts = value if isinstance(value, tuple) else (value,) if isinstance(value, str) else ()
    if len(texts) > MAX_VALUE_LENGTH or any(len(text) > MAX_VALUE_LENGTH for text in texts):
        raise EvaluationError(
            f"the result is longer than {MAX_VALUE_LENGTH:,} characters", function
        )
    return value
