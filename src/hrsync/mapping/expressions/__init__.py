"""The mapping language: Entra-like expressions that compute an attribute from a person's fields.

    expression = parse('Join(".", ToLower(NormalizeDiacritics([given_name])), "x")')
    evaluated = evaluate(expression, EvaluationContext(fields=person.fields(), now=now))
    evaluated.value, evaluated.fields_read, evaluated.steps

Parsed with lark, never with eval: the language has fields, text, whole numbers, comparisons
and the functions in `catalog.FUNCTIONS`, nothing else. docs/mapping.md is the admin's reference.
"""

from __future__ import annotations

from hrsync.mapping.expressions.context import NORDIC_DIACRITICS, Evaluated, EvaluationContext
from hrsync.mapping.expressions.errors import EvaluationError, ExpressionError
from hrsync.mapping.expressions.evaluate import evaluate
from hrsync.mapping.expressions.formatting import format_expression
from hrsync.mapping.expressions.nodes import (
    Call,
    Comparison,
    Expression,
    Field,
    Number,
    Omitted,
    Text,
    fields_of,
)
from hrsync.mapping.expressions.parser import parse
from hrsync.mapping.expressions.person_fields import field_value

__all__ = [
    "NORDIC_DIACRITICS",
    "Call",
    "Comparison",
    "Evaluated",
    "EvaluationContext",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "Field",
    "Number",
    "Omitted",
    "Text",
    "evaluate",
    "field_value",
    "fields_of",
    "format_expression",
    "parse",
]
