"""The grammar of the mapping language, for lark's LALR parser (linear time, no recursion)."""

from __future__ import annotations

import functools

from lark import Lark

# Entra's syntax plus comparisons (which Entra allows inside IIF) anywhere a value goes.
# An argument may be left empty, as in Entra's `Switch([x], , "a", "b")`.
# Text escapes: "" and \" are a quote, \\ is a backslash; any other \x stays as written, so
# Entra's regular expressions ("\\d", "\d") read the same.
GRAMMAR = r"""
?start: expression

?expression: operand
           | operand COMPARE operand -> comparison

?operand: call
        | FIELD -> field
        | STRING -> text
        | NUMBER -> number

call: NAME "(" argument ("," argument)* ")"
argument: expression?

COMPARE: "<>" | "<=" | ">=" | "=" | "<" | ">"
FIELD: /\[[^\[\]"\n]*\]/
STRING: /"(?:[^"\\]|""|\\[\s\S])*"/
NUMBER: /-?[0-9]+/
NAME: /[A-Za-z][A-Za-z0-9_]*/

%import common.WS
%ignore WS
"""


@functools.cache
def expression_parser() -> Lark:
    """Built once: lark compiles the grammar's tables on construction."""
    return Lark(GRAMMAR, parser="lalr", lexer="basic")
