"""Replace: plain text, a template, or a regular expression that is stopped after a time limit.

Patterns run on the `regex` package, which takes .NET's named groups `(?<name>…)` as Entra
writes them and, unlike `re`, stops a match after `timeout` seconds: a pattern with
catastrophic backtracking fails one value with an EvaluationError instead of hanging a run.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Protocol, cast

import regex  # type: ignore[import-untyped]  # the package publishes no type hints

from hrsync.mapping.expressions.arguments import Arguments
from hrsync.mapping.expressions.errors import EvaluationError
from hrsync.mapping.expressions.limits import MAX_VALUE_LENGTH, REGEX_TIMEOUT_SECONDS
from hrsync.mapping.expressions.nodes import Expression, Omitted
from hrsync.mapping.expressions.values import Value, shorten

# Entra's positions: Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
# replacementAttributeName, template).
_OLD, _PATTERN, _GROUP, _NEW, _ATTRIBUTE, _TEMPLATE = range(1, 7)
_MODES = (
    ({_OLD, _TEMPLATE}, "template"),
    ({_PATTERN, _GROUP, _ATTRIBUTE}, "extract"),
    ({_PATTERN, _GROUP, _NEW}, "group"),
    ({_PATTERN, _NEW}, "pattern"),
    ({_OLD, _NEW}, "plain"),
)
# .NET substitutions: ${name}, $1, $$ (a dollar) and $& (the whole match).
_REFERENCE = re.compile(r"\$(?:\{(\w+)\}|(\d+)|([$&]))")


class _Match(Protocol):
    def group(self, key: int | str = 0, /) -> str | None: ...
    def start(self, key: int | str = 0, /) -> int: ...
    def end(self, key: int | str = 0, /) -> int: ...


class _Pattern(Protocol):
    @property
    def groupindex(self) -> Mapping[str, int]: ...
    def sub(self, replacement: Callable[[_Match], str], text: str, *, timeout: float) -> str: ...
    def search(self, text: str, *, timeout: float) -> _Match | None: ...


def replace_mode(nodes: tuple[Expression, ...]) -> str | None:
    """Which of Entra's forms the given (not omitted) arguments select; None if none does.
    Three arguments are hrsync's short form Replace(source, old, new)."""
    if len(nodes) == 3:
        return "plain"
    given = {index for index, node in enumerate(nodes) if not isinstance(node, Omitted)}
    return next((mode for needed, mode in _MODES if needed <= given), None)


def replace(arguments: Arguments) -> Value:
    """Replace(source, old, new) or Entra's seven positions; see docs/mapping.md."""
    mode = replace_mode(arguments.nodes)
    source = arguments.text(0)
    if mode == "extract":
        return source or _extract(arguments)
    if source is None:
        return None
    if len(arguments) == 3:
        return _plain(source, arguments.text(1), arguments.text(2) or "")
    if mode == "template":
        return _plain(arguments.text(_TEMPLATE) or "", arguments.text(_OLD), source)
    if mode == "plain":
        return _plain(source, arguments.text(_OLD), arguments.text(_NEW) or "")
    pattern = _compiled(arguments.text(_PATTERN) or "")
    new = arguments.text(_NEW) or ""
    if mode == "group":
        return _run(
            pattern.sub, _group_replacer(pattern, arguments.text(_GROUP) or "", new), source
        )
    return _run(pattern.sub, lambda found: _expanded(new, found), source)


def _plain(source: str, old: str | None, new: str) -> str:
    if not old:
        raise EvaluationError("the text to replace is empty", "Replace")
    if len(source) + source.count(old) * (len(new) - len(old)) > MAX_VALUE_LENGTH:
        raise _too_long()
    return source.replace(old, new)


def _extract(arguments: Arguments) -> Value:
    """Entra's fallback form: source is empty, so take a group of the pattern in another value."""
    pattern = _compiled(arguments.text(_PATTERN) or "")
    group = _group_key(pattern, arguments.text(_GROUP) or "")
    other = arguments.text(_ATTRIBUTE)
    if not other:
        return None
    found = _run_search(pattern, other)
    return None if found is None else found.group(group) or None


def _group_replacer(pattern: _Pattern, group_name: str, new: str) -> Callable[[_Match], str]:
    """Replace only the named group's part of each match."""
    group = _group_key(pattern, group_name)

    def replaced(found: _Match) -> str:
        whole = found.group() or ""
        if found.start(group) < 0:
            return whole
        start, end = found.start(group) - found.start(), found.end(group) - found.start()
        return whole[:start] + _expanded(new, found) + whole[end:]

    return replaced


def _expanded(template: str, found: _Match) -> str:
    def one(reference: re.Match[str]) -> str:
        name, number, symbol = reference.groups()
        if symbol == "$":
            return "$"
        key = number or name or "0"  # $& is group 0
        try:
            return found.group(int(key) if key.isdigit() else key) or ""
        except (IndexError, ValueError):
            return reference.group()  # .NET leaves a reference to an unknown group as written

    return _REFERENCE.sub(one, template)


def _group_key(pattern: _Pattern, name: str) -> int | str:
    if name.isdigit():
        return int(name)
    if name not in pattern.groupindex:
        raise EvaluationError(f'the pattern has no group named "{shorten(name)}"', "Replace")
    return name


def _run(sub: Callable[..., str], replacer: Callable[[_Match], str], source: str) -> str:
    produced = 0

    def bounded(found: _Match) -> str:
        nonlocal produced
        text = replacer(found)
        produced += len(text)
        if produced > MAX_VALUE_LENGTH:
            raise _too_long()
        return text

    try:
        return sub(bounded, source, timeout=REGEX_TIMEOUT_SECONDS)
    except TimeoutError:
        raise _too_slow() from None


def _run_search(pattern: _Pattern, text: str) -> _Match | None:
    try:
        return pattern.search(text, timeout=REGEX_TIMEOUT_SECONDS)
    except TimeoutError:
        raise _too_slow() from None


def _too_long() -> EvaluationError:
    return EvaluationError(
        f"the result would be longer than {MAX_VALUE_LENGTH:,} characters", "Replace"
    )


def _too_slow() -> EvaluationError:
    return EvaluationError(
        f"the pattern took longer than {REGEX_TIMEOUT_SECONDS} seconds on this value; simplify it",
        "Replace",
    )


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> _Pattern:
    if not pattern:
        raise EvaluationError("the pattern is empty", "Replace")
    try:
        return cast(_Pattern, regex.compile(pattern))
    except (regex.error, OverflowError, ValueError, RecursionError) as error:
        raise EvaluationError(
            f'"{shorten(pattern)}" is not a valid pattern: {error}', "Replace"
        ) from None
