"""Lark's syntax errors retold for an admin: where, and what is missing, in plain words."""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from hrsync.mapping.expressions.catalog import canonical_name
from hrsync.mapping.expressions.errors import ExpressionError
from hrsync.mapping.expressions.values import shorten

_VALUE_TOKENS = ("FIELD", "STRING", "NUMBER", "NAME")
_JOIN_HINT = 'to put values together use Join, e.g. Join(" ", [given_name], [family_name])'


def position(text: str, index: int) -> tuple[int, int]:
    """Line and column (from 1) of a character index."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def error_at(text: str, index: int, message: str) -> ExpressionError:
    return ExpressionError(message, *position(text, index))


def character_error(error: UnexpectedCharacters, text: str) -> ExpressionError:
    """A character no token can start with, or a bracket or quote that is never closed."""
    index = error.pos_in_stream or 0
    char = text[index]
    if char == "[":
        name = _name_after_bracket(text, index)
        return error_at(
            text, index + 1 + len(name), f"a closing bracket ] is missing after [{name}"
        )
    return error_at(text, index, _character_message(char, text[index + 1 : index + 2]))


def _name_after_bracket(text: str, index: int) -> str:
    end = index + 1
    while end < len(text) and text[end] not in '[]"\n,()':
        end += 1
    return text[index + 1 : end].rstrip()


def _character_message(char: str, following: str) -> str:
    if char == '"':
        return 'this text has no closing quote " (inside text, write a quote twice: "")'
    if char == "'":
        return 'text goes in double quotes, like "Sales", not single quotes'
    if char == "]":
        return "there is a ] without an opening ["
    if char == "!" and following == "=":
        return "write 'not equal' as <>"
    if char in "&+":
        return f"{char} does not join values here; {_JOIN_HINT}"
    if char == "-":
        return "a minus sign must be followed by a number"
    if char in ".,":
        return f"{char!r} cannot be used here; numbers are whole numbers, text goes in quotes"
    shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
    return (
        f"the character {shown} cannot be used here: fields go in [brackets], "
        'text in "double quotes", functions are written like Left([given_name], 1)'
    )


def token_error(error: UnexpectedToken, tokens: list[Token], text: str) -> ExpressionError:
    """A token in a place the grammar does not allow, told by what comes before it."""
    found: Token = error.token
    at_end = found.type == "$END"
    index = len(tokens) if at_end else _token_index(tokens, found)
    before = tokens[index - 1] if index else None
    depth = sum(t.type == "LPAR" for t in tokens[:index]) - sum(
        t.type == "RPAR" for t in tokens[:index]
    )
    where = len(text.rstrip()) if at_end else found.start_pos or 0
    if before is not None and before.type == "NAME" and found.type != "LPAR":
        where = before.start_pos or 0  # point at the name that lacks its "("
    return error_at(text, where, _token_message(found, before, depth))


def _token_index(tokens: list[Token], found: Token) -> int:
    return next(
        (i for i, token in enumerate(tokens) if token.start_pos == found.start_pos), len(tokens)
    )


def _token_message(found: Token, before: Token | None, depth: int) -> str:
    if before is not None and before.type == "NAME" and found.type != "LPAR":
        return _bare_name_message(str(before))
    if before is not None and before.type == "COMPARE":
        return f"a value is missing after {before}"
    if found.type == "$END":
        return (
            "a closing parenthesis ) is missing at the end" if depth else "the expression is empty"
        )
    if found.type == "COMPARE":
        if before is None or before.type in ("LPAR", "COMMA"):
            return f"a value is missing before {found}"
        return "only one comparison at a time; for two conditions put one IIF inside another"
    if found.type == "RPAR":
        return "there is a ) without a matching ("
    if found.type == "LPAR":
        return "( must follow a function name, like Left(; parentheses do not group values"
    if found.type == "COMMA":
        return "a comma outside a function's parentheses; " + _JOIN_HINT
    shown = _shown(found)
    if depth:
        return f"a comma is missing before {shown}"
    return f"{shown} follows the end of the expression; {_JOIN_HINT}"


def _bare_name_message(name: str) -> str:
    if canonical_name(name):
        return f"{name} must be followed by ( and its arguments, like {name}(…)"
    return f"'{name}' is not a function; a field is written in brackets, [{name}], text in quotes"


def _shown(token: Token) -> str:
    return shorten(str(token), 40) if token.type in _VALUE_TOKENS else repr(str(token))
