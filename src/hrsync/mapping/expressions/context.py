"""What an evaluation needs from outside (the person, the clock, the target) and what it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

# The Swedish and Nordic letters NormalizeDiacritics replaces by default. Other accented letters
# are folded by names.fold_to_ascii (é→e, ü→u, ß→ss); this table is what a connection overrides,
# e.g. with {"ä": "ae", "ö": "oe", "ü": "ue"} for German-style names or {"å": "aa"} for Danish.
NORDIC_DIACRITICS: Mapping[str, str] = MappingProxyType(
    {
        "å": "a",
        "Å": "A",
        "ä": "a",
        "Ä": "A",
        "ö": "o",
        "Ö": "O",
        "æ": "ae",
        "Æ": "Ae",
        "ø": "o",
        "Ø": "O",
        "é": "e",
        "É": "E",
        "ü": "u",
        "Ü": "U",
    }
)


def _nothing_taken(attribute: str, value: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """One person, seen from one connection.

    `fields` is `Person.fields()` (a missing key reads as empty); `now` is an aware datetime in
    the connection's time zone, which is also the zone of dates read without an offset;
    `is_taken(attribute, value)` asks the target whether a value of `target_attribute` is in use
    (SelectUniqueValue). Whatever `is_taken` raises is passed through unchanged.
    """

    fields: Mapping[str, str | None]
    now: datetime
    target_attribute: str = ""
    is_taken: Callable[[str, str], bool] = _nothing_taken
    diacritics: Mapping[str, str] = field(default_factory=lambda: NORDIC_DIACRITICS)

    def __post_init__(self) -> None:
        if self.now.utcoffset() is None:
            raise ValueError("EvaluationContext.now must be an aware datetime (with a time zone)")


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A value with its lineage: every field read, and why each choice went the way it did.

    `value` is text, several values (from Split or AppendNumber), or None for empty.
    `steps` are sentences in evaluation order, e.g. 'Switch: [org.Department] is "Sales", which
    matches the key "Sales"', so a plan can answer "why is Anna in OU=Sales?".
    """

    value: str | tuple[str, ...] | None
    fields_read: frozenset[str]
    steps: tuple[str, ...]
