"""The OData query options the Graph simulator understands on users: `$filter` (eq, ne,
startswith, in, joined by `and`/`or`), `$select` and opaque `$skiptoken`s.

Graph answers a filter it cannot run with 400 Request_UnsupportedQuery; so does this.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from hrsync.simulators.graph.store import GraphError, JsonObject

Predicate = Callable[[JsonObject], bool]

_STRING = r"'(?:[^']|'')*'"
_VALUE = rf"(?:{_STRING}|true|false|null|-?\d+)"
_PROPERTY = r"[A-Za-z][A-Za-z0-9/]*"
_COMPARISON = re.compile(rf"^({_PROPERTY})\s+(eq|ne)\s+({_VALUE})$")
_STARTSWITH = re.compile(rf"^startswith\(\s*({_PROPERTY})\s*,\s*({_STRING})\s*\)$", re.I)
_IN = re.compile(rf"^({_PROPERTY})\s+in\s+\(\s*({_STRING}(?:\s*,\s*{_STRING})*)\s*\)$")
_SPLIT = re.compile(rf"({_STRING})|\s+(and|or)\s+", re.I)

DEFAULT_SELECT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
"""What `GET /users` returns without `$select` (Graph's default set)."""


def unsupported(detail: str = "Unsupported Query.") -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", detail)


def parse_filter(text: str) -> Predicate:
    """A predicate for a `$filter`; one connective throughout (no parentheses)."""
    terms, joins = _split(text.strip())
    if len(set(joins)) > 1:
        raise unsupported("Mixing 'and' and 'or' without parentheses is not supported.")
    tests = [_term(term) for term in terms]
    if joins and joins[0] == "or":
        return lambda user: any(test(user) for test in tests)
    return lambda user: all(test(user) for test in tests)


def _split(text: str) -> tuple[list[str], list[str]]:
    terms, joins, start = [], [], 0
    for match in _SPLIT.finditer(text):
        if match.group(2) is None:
            continue  # a quoted string: `and` inside it is data
        terms.append(text[start : match.start()].strip())
        joins.append(match.group(2).lower())
        start = match.end()
    terms.append(text[start:].strip())
    return terms, joins


def _term(term: str) -> Predicate:
    if match := _COMPARISON.match(term):
        name, operator, raw = match.groups()
        value = _literal(raw)
        if operator == "eq":
            return lambda user: _same(_read(user, name), value)
        return lambda user: not _same(_read(user, name), value)
    if match := _STARTSWITH.match(term):
        name, raw = match.groups()
        prefix = str(_literal(raw)).casefold()
        return lambda user: str(_read(user, name) or "").casefold().startswith(prefix)
    if match := _IN.match(term):
        name, raw = match.groups()
        values = [_literal(part) for part in re.findall(_STRING, raw)]
        return lambda user: any(_same(_read(user, name), value) for value in values)
    raise unsupported(f"Invalid filter clause: {term}")


def _literal(raw: str) -> object:
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    if raw in ("true", "false"):
        return raw == "true"
    return None if raw == "null" else int(raw)


def _same(found: object, value: object) -> bool:
    """String comparisons in Entra are case-insensitive."""
    if isinstance(found, str) and isinstance(value, str):
        return found.casefold() == value.casefold()
    return found == value


def _read(user: JsonObject, path: str) -> object:
    value: Any = user
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def parse_select(text: str | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_SELECT
    return tuple(dict.fromkeys(["id", *(p.strip() for p in text.split(",") if p.strip())]))


def selected(user: JsonObject, names: tuple[str, ...], *, with_manager: bool) -> JsonObject:
    """The user with only the selected properties (null when unset), as Graph answers."""
    shown: JsonObject = {name: user.get(name) for name in names}
    if with_manager and "manager" in user:
        shown["manager"] = user["manager"]
    return shown


def encode_token(state: dict[str, object]) -> str:
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError:
        raise GraphError(400, "Request_BadRequest", "Invalid skip or delta token.") from None
    if not isinstance(state, dict):
        raise GraphError(400, "Request_BadRequest", "Invalid skip or delta token.")
    return state
