"""Lineage for an AD connection's planned values: the rule behind each attribute and the HR
fields it reads, with the person's values.

The fields are found in the rule's text (`fields_of`), not by evaluating it again, so lineage
costs one dictionary of values per planned change and nothing per unchanged person. The rules
hrsync applies in plain Python (names, CN, the users OU) are described in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from hrsync.domain.lineage import Derivation, Derivations, Lineage
from hrsync.domain.person import Person
from hrsync.mapping.active_directory import DirectoryPolicy
from hrsync.mapping.ad_rules import DEFAULT_RULES, PLACEMENT, Rule
from hrsync.mapping.expressions import field_value, fields_of, parse

PARENT = "parent"
"""The lineage key of an account's OU (the `parent` row of a plan's diff)."""
SAM, UPN, CN, MANAGER = "sAMAccountName", "userPrincipalName", "cn", "manager"


def _words(rule: str, *fields: str) -> Derivation:
    return Derivation(rule, "hrsync", fields)


_CN = _words(
    "the display name ([given_name] [family_name]), or the employee number when both are empty; "
    "the employee number is appended when another account in the OU has the name",
    "given_name",
    "family_name",
    "employee_number",
)
_SAM = _words(
    "the first letter of [given_name] and [family_name], lower case without diacritics, at most "
    "20 characters, numbered when taken",
    "given_name",
    "family_name",
)
_MANAGER = _words("the account of the person named by [manager_id]", "manager_id")


@cache
def _default(attribute: str) -> Derivation:
    text = DEFAULT_RULES[attribute]
    return Derivation(text, "default", fields_of(parse(text)))


def _of_rule(rule: Rule, source: str) -> Derivation:
    return Derivation(rule.text, source, fields_of(rule.expression))


def derivations(policy: DirectoryPolicy) -> dict[str, Derivation]:
    """How each attribute of the connection's accounts is computed."""
    found = {name: _default(name) for name in DEFAULT_RULES}
    found |= {rule.attribute: _of_rule(rule, "override") for rule in policy.rules}
    found[policy.person_id_attribute] = _words("the person's id in the HR system")
    found[CN] = _CN
    found[SAM] = _of_rule(policy.sam_rule, "naming") if policy.sam_rule else _SAM
    found[UPN] = (
        _of_rule(policy.upn_rule, "naming")
        if policy.upn_rule
        else _words(
            f"[given_name].[family_name]@{policy.upn_suffix}, lower case without diacritics, "
            "numbered when taken",
            "given_name",
            "family_name",
        )
    )
    found[MANAGER] = _MANAGER
    found[PARENT] = (
        _of_rule(policy.placement, PLACEMENT)
        if policy.placement
        else _words(f"the connection's users OU ({policy.users_ou})")
    )
    return found


class Explainer:
    """The lineage of one connection's plan: the derivations once, the values per change."""

    def __init__(self, policy: DirectoryPolicy) -> None:
        self.derivations: Derivations = derivations(policy)

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
