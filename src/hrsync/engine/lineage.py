"""Lineage of a plan's values: the derivation of each attribute once per plan, and per change
the values its rules read for the person (hrsync.domain.lineage).

The fields are found in the rule's text (`fields_of`), not by evaluating it again, so lineage
costs one dictionary of values per planned change and nothing per unchanged person.
"""

from __future__ import annotations

from collections.abc import Iterable

from hrsync.domain.lineage import Derivation, Derivations, Lineage
from hrsync.domain.person import Person
from hrsync.mapping.expressions import field_value, fields_of
from hrsync.mapping.rules import Rule

PARENT = "parent"
"""The lineage key of an account's container (the `parent` row of a plan's diff)."""
MANAGER = "manager"


def words(rule: str, *fields: str) -> Derivation:
    """A rule hrsync applies in plain Python, described in words."""
    return Derivation(rule, "hrsync", fields)


def of_rule(rule: Rule, source: str) -> Derivation:
    return Derivation(rule.text, source, fields_of(rule.expression))


class Explainer:
    """The lineage of one connection's plan: the derivations once, the values per change."""

    def __init__(self, derivations: Derivations) -> None:
        self.derivations: Derivations = derivations

    def lineage(
        self, person: Person, names: Iterable[str], *, notes: dict[str, str] | None = None
    ) -> Lineage:
        """What the rules of these attributes read for the person; `notes` are rules in words
        that replace the plan's for this person alone (e.g. the leavers OU)."""
        values = person.fields()
        read: dict[str, str | None] = {}
        for name in names:
            derivation = self.derivations.get(name)
            if derivation is not None and not (notes and name in notes):
                for field in derivation.fields:
                    read[field] = field_value(values, field)
        return Lineage(read, notes or {})


def of_rules(rules: Iterable[Rule], overridden: Iterable[str]) -> dict[str, Derivation]:
    """The derivation of each rule: an admin's override where its attribute is `overridden`,
    else the profile's default."""
    admins = set(overridden)
    return {
        rule.attribute: of_rule(rule, "override" if rule.attribute in admins else "default")
        for rule in rules
    }
