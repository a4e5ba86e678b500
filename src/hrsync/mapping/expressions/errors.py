"""The two ways an expression can fail: it does not parse, or it cannot be evaluated for a person.

ExpressionError     the text is not a valid expression (line and column point at the problem)
EvaluationError     a valid expression failed on one person's values (a bad date, a slow pattern)

Both messages are written for the admin who wrote the expression, not for a programmer.
"""

from __future__ import annotations


class ExpressionError(ValueError):
    """The expression text is invalid. Lines and columns count from 1."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line = line
        self.column = column


class EvaluationError(ValueError):
    """A function could not compute a value; `function` is None for a field that is too long."""

    def __init__(self, message: str, function: str | None = None) -> None:
        super().__init__(f"{function}: {message}" if function else message)
        self.message = message
        self.function = function
