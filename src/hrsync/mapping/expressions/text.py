"""Text functions. Empty in, empty out: a missing or empty source gives None unless noted."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping

from hrsync.mapping.expressions.arguments import Arguments
from hrsync.mapping.expressions.errors import EvaluationError
from hrsync.mapping.expressions.limits import MAX_NUMBERED_CANDIDATES
from hrsync.mapping.expressions.values import Value, is_empty
from hrsync.mapping.names import fold_to_ascii

# Unicode White_Space. str.strip() would also take the ASCII separators \x1c-\x1f, which are
# control characters and pass through unchanged like every other one.
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def join(arguments: Arguments) -> Value:
    """Join(separator, value, …): the non-empty values, lists flattened, with the separator."""
    separator = arguments.text(0) or ""
    parts = [part for index in range(1, len(arguments)) for part in arguments.texts(index)]
    return separator.join(parts) if parts else None


def append(arguments: Arguments) -> Value:
    """Append(value, suffix)."""
    joined = (arguments.text(0) or "") + (arguments.text(1) or "")
    return joined or None


def left(arguments: Arguments) -> Value:
    """Left(value, count): the first `count` characters; a negative count keeps everything."""
    source, count = arguments.text(0), arguments.integer(1, "the number of characters")
    if source is None:
        return None
    return source if count < 0 else source[:count]


def right(arguments: Arguments) -> Value:
    """Right(value, count): the last `count` characters; a negative count keeps everything."""
    source, count = arguments.text(0), arguments.integer(1, "the number of characters")
    if source is None:
        return None
    if count < 0:
        return source
    return source[len(source) - count :] if count < len(source) else source


def mid(arguments: Arguments) -> Value:
    """Mid(value, start, length): `length` characters from position `start`, counting from 1."""
    source = arguments.text(0)
    start = arguments.integer(1, "the start position")
    length = arguments.integer(2, "the length")
    if start < 1:
        raise EvaluationError("the start position counts from 1", "Mid")
    if length < 0:
        raise EvaluationError("the length cannot be negative", "Mid")
    return None if source is None else source[start - 1 : start - 1 + length]


def trim(arguments: Arguments) -> Value:
    """Trim(value): without leading and trailing white space (spaces, tabs, line breaks, NBSP)."""
    source = arguments.text(0)
    return None if source is None else source.strip(_WHITESPACE)


def strip_spaces(arguments: Arguments) -> Value:
    """StripSpaces(value): without any space character (U+0020); other white space stays."""
    source = arguments.text(0)
    return None if source is None else source.replace(" ", "")


def to_lower(arguments: Arguments) -> Value:
    source = arguments.text(0)
    return None if source is None else source.lower()


def to_upper(arguments: Arguments) -> Value:
    source = arguments.text(0)
    return None if source is None else source.upper()


def proper_case(arguments: Arguments) -> Value:
    """ProperCase(value[, separators]): each word's first letter upper case, the rest lower.

    Without separators any character that is not a letter, digit or accent starts a new word
    ("ANNA-KARIN O'BRIEN" → "Anna-Karin O'Brien"); with them, only those characters do.
    """
    source, separators = arguments.text(0), arguments.text(1)
    if source is None:
        return None
    out: list[str] = []
    starts_word = True
    for char in source:
        out.append(char.upper() if starts_word else char.lower())
        starts_word = (char in separators) if separators else not _is_word_part(char)
    return "".join(out)


def _is_word_part(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def normalize_diacritics(arguments: Arguments) -> Value:
    """NormalizeDiacritics(value): Nordic letters by the connection's table, other accented
    letters by fold_to_ascii; characters without an ASCII form (李, control characters) stay."""
    source = arguments.text(0)
    if source is None:
        return None
    table = arguments.context.diacritics
    return "".join(_normalized(cluster, table) for cluster in _clusters(source))


def _normalized(cluster: str, table: Mapping[str, str]) -> str:
    if cluster in table:
        return table[cluster]
    return fold_to_ascii(cluster) or cluster


def _clusters(text: str) -> Iterator[str]:
    """A base character with the combining marks after it (NFC first, so "a"+"◌̊" is "å")."""
    cluster = ""
    for char in unicodedata.normalize("NFC", text):
        if cluster and not unicodedata.combining(char):
            yield cluster
            cluster = ""
        cluster += char
    if cluster:
        yield cluster


def split(arguments: Arguments) -> Value:
    """Split(value, delimiter): several values; parts are not trimmed, empty parts are kept."""
    source, delimiter = arguments.text(0), arguments.text(1)
    if not delimiter:
        raise EvaluationError("the delimiter is empty", "Split")
    return () if source is None else tuple(source.split(delimiter))


def item(arguments: Arguments) -> Value:
    """Item(values, index): one of several values, counting from 1; past the end is empty."""
    value = arguments.value(0)
    index = arguments.integer(1, "the index")
    if index < 1:
        raise EvaluationError("the index counts from 1", "Item")
    items = value if isinstance(value, tuple) else tuple(arguments.texts(0))
    return items[index - 1] if index <= len(items) else None


def append_number(arguments: Arguments) -> Value:
    """AppendNumber(value, number) → "value2"; AppendNumber(value, first, last) → the values
    numbered first to last, for SelectUniqueValue to try in order."""
    source = arguments.text(0)
    first = arguments.integer(1, "the number")
    last = arguments.integer(2, "the last number") if arguments.is_given(2) else None
    if last is None:
        return None if not source else f"{source}{first}"
    if not first <= last < first + MAX_NUMBERED_CANDIDATES:
        raise EvaluationError(
            f"the last number must be between {first} and {first + MAX_NUMBERED_CANDIDATES - 1}",
            "AppendNumber",
        )
    return () if not source else tuple(f"{source}{n}" for n in range(first, last + 1))


def is_present(arguments: Arguments) -> Value:
    """IsPresent(value): True unless empty (missing, "", or no values)."""
    return not is_empty(arguments.value(0))


def is_null_or_empty(arguments: Arguments) -> Value:
    return is_empty(arguments.value(0))


def negate(arguments: Arguments) -> Value:
    """Not(condition)."""
    return not arguments.condition(0)
