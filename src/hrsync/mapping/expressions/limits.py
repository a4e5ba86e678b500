"""Bounds that keep one expression cheap to parse and to evaluate, whoever wrote it."""

from __future__ import annotations

# Microsoft Entra allows 10,000 characters; a mapping longer than a page is a maintenance risk.
MAX_EXPRESSION_LENGTH = 4_000
# Functions inside functions; also keeps the recursive evaluator far from Python's stack limit.
MAX_NESTING_DEPTH = 32
# Every value read, written as a literal or produced by a function. AD's longest string
# attributes we map (streetAddress) hold 1,024 characters.
MAX_VALUE_LENGTH = 1_024
# Number literals: enough for any count or offset, small enough to never be slow.
MAX_NUMBER_DIGITS = 9
# One regular-expression search or replacement; the `regex` package stops the match after this.
REGEX_TIMEOUT_SECONDS = 0.25
# AppendNumber(value, first, last) produces at most this many candidates.
MAX_NUMBERED_CANDIDATES = 1_000
