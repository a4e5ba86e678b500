"""Where a planned value comes from: the rule that computed it and the HR fields it read.

Two halves, so a plan of 50,000 new accounts does not carry 50,000 copies of each rule: the
plan holds one `Derivation` per attribute (the rule and the fields it reads), and each change
its `Lineage` (those fields' values for this person, and any rule that differs for this person
alone). Joined, they answer "why is Anna in OU=Sales?" from the plan itself — in its JSON, its
diff view and its CSV — without re-running anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Derivation:
    """How one attribute is computed for every account of a plan."""

    rule: str
    """The rule as the admin reads it: an expression in the mapping language, or a sentence
    for what hrsync decides itself (CNs, default login names, the users OU)."""
    source: str
    """"default", "override" (the connection's own rule), "naming", "placement" or "hrsync"."""
    fields: tuple[str, ...] = ()
    """The HR fields the rule reads."""


Derivations = Mapping[str, Derivation]
"""Per attribute; also "cn", "parent" (the OU) and "manager"."""


@dataclass(frozen=True, slots=True)
class Lineage:
    """One change's half: what the plan's rules read for this person."""

    values: dict[str, str | None] = field(default_factory=dict)
    """The fields the change's rules read, with the person's values when the plan was made."""
    notes: dict[str, str] = field(default_factory=dict)
    """Per attribute, the rule in words where it is not the plan's for this person (an account
    in the leavers OU, a placement rule that failed for them)."""

    def __bool__(self) -> bool:
        return bool(self.values or self.notes)


NO_LINEAGE = Lineage()
"""Shared by the changes that record none; never mutated."""


@dataclass(frozen=True, slots=True)
class Explained:
    """One planned value's lineage, joined: the rule and the fields it read, with values."""

    rule: str
    source: str
    fields: dict[str, str | None]


def explain(attribute: str, derivations: Derivations, lineage: Lineage) -> Explained | None:
    """The lineage of one attribute of one change; None where the plan records none."""
    note = lineage.notes.get(attribute)
    if note is not None:
        return Explained(note, "hrsync", {})
    derivation = derivations.get(attribute)
    if derivation is None:
        return None
    fields = {name: lineage.values.get(name) for name in derivation.fields}
    return Explained(derivation.rule, derivation.source, fields)


def lineage_from_json(raw: object) -> Lineage:
    """A change's lineage back from a stored plan (`dataclasses.asdict` of it)."""
    if not isinstance(raw, Mapping):
        return Lineage()
    notes = raw.get("notes")
    notes = {str(k): str(v) for k, v in notes.items()} if isinstance(notes, Mapping) else {}
    return Lineage(_texts(raw.get("values")), notes)


def derivations_to_json(derivations: Derivations) -> dict[str, dict[str, object]]:
    return {
        name: {"rule": d.rule, "source": d.source, "fields": list(d.fields)}
        for name, d in derivations.items()
    }


def derivations_from_json(raw: object) -> dict[str, Derivation]:
    if not isinstance(raw, Mapping):
        return {}
    return {
        str(name): Derivation(
            str(item.get("rule") or ""),
            str(item.get("source") or ""),
            tuple(str(f) for f in item.get("fields") or ()),
        )
        for name, item in raw.items()
        if isinstance(item, Mapping)
    }


def _texts(raw: Any) -> dict[str, str | None]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): None if v is None else str(v) for k, v in raw.items()}
