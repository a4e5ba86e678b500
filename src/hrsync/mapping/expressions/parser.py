"""Text to expression tree, with every check that needs no person: syntax, bounds, known fields
and functions, argument counts. Errors carry a line and column for the admin."""

from __future__ import annotations

import re

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from hrsync.mapping.expressions.catalog import (
    FUNCTIONS,
    arity_problem,
    canonical_name,
    unknown_function_message,
)
from hrsync.mapping.expressions.errors import ExpressionError
from hrsync.mapping.expressions.grammar import expression_parser
from hrsync.mapping.expressions.limits import (
    MAX_EXPRESSION_LENGTH,
    MAX_NESTING_DEPTH,
    MAX_NUMBER_DIGITS,
    MAX_VALUE_LENGTH,
)
from hrsync.mapping.expressions.nodes import (
    Call,
    Comparison,
    Expression,
    Field,
    Number,
    Omitted,
    Text,
)
from hrsync.mapping.expressions.person_fields import (
    CUSTOM_PREFIX,
    ORGANISATION_PREFIX,
    PERSON_FIELDS,
    suggest_field,
)
from hrsync.mapping.expressions.syntax_errors import (
    character_error,
    error_at,
    position,
    token_error,
)

_ESCAPE = re.compile(r'""|\\[\s\S]')


def parse(text: str) -> Expression:
    """The expression written in `text`; raises ExpressionError pointing at the first problem."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise error_at(
            text,
            MAX_EXPRESSION_LENGTH,
            f"the expression is {len(text):,} characters long; "
            f"the limit is {MAX_EXPRESSION_LENGTH:,}",
        )
    parser = expression_parser()
    try:
        tokens = list(parser.lex(text))
    except UnexpectedCharacters as error:
        raise character_error(error, text) from None
    if not tokens:
        raise ExpressionError("the expression is empty", 1, 1)
    _check_depth(tokens)
    try:
        tree = parser.parse(text)
    except UnexpectedToken as error:
        raise token_error(error, tokens, text) from None
    return _Builder(text).expression(tree, is_whole=True)


def _check_depth(tokens: list[Token]) -> None:
    """Before parsing, so no later step recurses deeper than the limit."""
    depth = 0
    for token in tokens:
        depth += {"LPAR": 1, "RPAR": -1}.get(token.type, 0)
        if depth > MAX_NESTING_DEPTH:
            raise ExpressionError(
                f"functions are nested more than {MAX_NESTING_DEPTH} deep here",
                token.line or 1,
                token.column or 1,
            )


class _Builder:
    """Turns lark's tree into nodes, checking what the grammar cannot."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, token: Token, message: str) -> ExpressionError:
        return ExpressionError(message, *position(self.text, token.start_pos or 0))

    def expression(self, tree: Tree[Token], *, is_whole: bool = False) -> Expression:
        first = tree.children[0]
        match tree.data:
            case "call":
                return self.call(tree, is_whole=is_whole)
            case "comparison":
                left, operator, right = tree.children
                assert isinstance(left, Tree) and isinstance(right, Tree)
                return Comparison(str(operator), self.expression(left), self.expression(right))
            case "field":
                assert isinstance(first, Token)
                return self.field(first)
            case "text":
                assert isinstance(first, Token)
                return self.string(first)
            case _:
                assert isinstance(first, Token)
                return self.number(first)

    def call(self, tree: Tree[Token], *, is_whole: bool) -> Call:
        name_token, *argument_trees = tree.children
        assert isinstance(name_token, Token)
        name = canonical_name(str(name_token))
        if name is None:
            raise self.fail(name_token, unknown_function_message(str(name_token)))
        arguments = tuple(self.argument(argument) for argument in argument_trees)
        if arguments == (Omitted(),):
            arguments = ()  # Now() has no arguments, not one empty one
        signature = FUNCTIONS[name]
        problem = arity_problem(name, len(arguments)) or (
            signature.problem(arguments) if signature.problem else None
        )
        if problem:
            raise self.fail(name_token, problem)
        if signature.is_whole_expression_only and not is_whole:
            raise self.fail(
                name_token,
                f"{name} must be the whole expression, not inside another function or a "
                "comparison; put other functions inside each candidate instead",
            )
        return Call(name, arguments)

    def argument(self, tree: Tree[Token] | Token) -> Expression:
        assert isinstance(tree, Tree)
        if not tree.children:
            return Omitted()
        child = tree.children[0]
        assert isinstance(child, Tree)
        return self.expression(child)

    def field(self, token: Token) -> Field:
        name = str(token)[1:-1].strip()
        prefix, dot, rest = name.partition(".")
        qualified = f"{prefix.lower()}{dot}"
        if qualified in (ORGANISATION_PREFIX, CUSTOM_PREFIX):
            if not rest.strip():
                kind = "organisation level" if qualified == ORGANISATION_PREFIX else "custom field"
                raise self.fail(token, f"name the {kind} after {qualified}, e.g. [{qualified}Name]")
            return Field(qualified + rest.strip())
        if name in PERSON_FIELDS:
            return Field(name)
        if not name:
            raise self.fail(token, "a field name is missing between [ and ]")
        suggestion = suggest_field(name)
        hint = (
            f" — did you mean [{suggestion}]?"
            if suggestion
            else (
                f"; person fields are {', '.join(PERSON_FIELDS)}, organisation levels "
                "[org.Level] and custom fields [custom.Name]"
            )
        )
        raise self.fail(token, f"unknown field [{name}]{hint}")

    def string(self, token: Token) -> Text:
        value = _ESCAPE.sub(_unescape, str(token)[1:-1])
        if len(value) > MAX_VALUE_LENGTH:
            raise self.fail(
                token,
                f"text in quotes is limited to {MAX_VALUE_LENGTH:,} characters; "
                f"this has {len(value):,}",
            )
        return Text(value)

    def number(self, token: Token) -> Number:
        if len(str(token).lstrip("-")) > MAX_NUMBER_DIGITS:
            raise self.fail(token, f"numbers may have at most {MAX_NUMBER_DIGITS} digits")
        return Number(int(token))


def _unescape(escape: re.Match[str]) -> str:
    """ "" and \\" are a quote, \\\\ a backslash; other backslashes stay, for patterns like \\d."""
    sequence = escape.group()
    return sequence[-1] if sequence in ('""', "\\\\", '\\"') else sequence
