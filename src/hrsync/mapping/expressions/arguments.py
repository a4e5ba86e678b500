"""A function's view of its arguments: evaluated on demand, so IIF and Switch read only the
branch they take, and converted with the function's name in every error message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from hrsync.mapping.expressions.context import EvaluationContext
from hrsync.mapping.expressions.formatting import format_expression
from hrsync.mapping.expressions.nodes import Expression, Omitted
from hrsync.mapping.expressions.values import (
    Value,
    condition_of,
    integer_of,
    is_empty,
    text_of,
)


@dataclass(slots=True)
class Arguments:
    """The arguments of one call. An index past the end reads as an omitted argument."""

    function: str
    nodes: tuple[Expression, ...]
    context: EvaluationContext
    evaluate_node: Callable[[Expression], Value]
    note: Callable[[str], None]
    _values: dict[int, Value] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.nodes)

    def is_given(self, index: int) -> bool:
        return index < len(self.nodes) and not isinstance(self.nodes[index], Omitted)

    def value(self, index: int) -> Value:
        """The argument's value, evaluated at most once."""
        if index >= len(self.nodes):
            return None
        if index not in self._values:
            self._values[index] = self.evaluate_node(self.nodes[index])
        return self._values[index]

    def text(self, index: int) -> str | None:
        return text_of(self.value(index), self.function)

    def integer(self, index: int, what: str) -> int:
        return integer_of(self.value(index), self.function, what)

    def condition(self, index: int) -> bool:
        return condition_of(self.value(index), self.function)

    def texts(self, index: int) -> Iterator[str]:
        """The non-empty texts of an argument that may hold several values."""
        value = self.value(index)
        if isinstance(value, tuple):
            yield from (item for item in value if item)
        elif not is_empty(value):
            yield text_of(value, self.function) or ""

    def describe(self, index: int) -> str:
        """The argument as the admin would write it, for lineage steps."""
        return format_expression(self.nodes[index])
