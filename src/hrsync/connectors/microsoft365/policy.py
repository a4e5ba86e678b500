"""The planner's view of one Microsoft 365 connection (an hrsync.engine.policy.AccountPolicy):
the default mapping with the admin's overrides evaluated per person, and the names a new user
needs. Entra has no containers and no renames: a changed property is an update like any other.

A new user gets a userPrincipalName `given.family@upn_suffix` and a mailNickname `given.family`,
each numbered on collision (`anna.berg2`) against every name in the tenant and those handed out
earlier in the plan. Both are given once, when the user is created, and never compared again:
an admin who renames a user in Entra keeps the new name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from hrsync.connectors.microsoft365.profile import MAIL_NICKNAME, UPN, USAGE_LOCATION
from hrsync.domain.account import DesiredAccount
from hrsync.domain.lineage import Derivations
from hrsync.domain.person import Person
from hrsync.domain.profile import TargetProfile
from hrsync.engine.lineage import of_rules, words
from hrsync.engine.policy import FlatPolicy, NewAccount, TakenNames
from hrsync.mapping.names import login_part
from hrsync.mapping.rules import Rule, apply_rules, day_start, parse_rule

NEW_USER = "new-user:"
"""A provisional ref: the object id exists once Graph has created the user."""
PREFIX_MAX = 64
"""Graph allows 64 characters before the @ of a userPrincipalName, and 64 in a mailNickname."""


@dataclass(frozen=True)
class GraphPolicy(FlatPolicy):
    """One Microsoft 365 connection: its profile, the admin's overrides, the UPN suffix and the
    usage location new users get (unset: left as the tenant has it)."""

    profile: TargetProfile
    upn_suffix: str
    rules: tuple[Rule, ...] = ()
    time_zone: str = "Europe/Stockholm"
    owner_attribute: str = ""
    usage_location: str | None = None
    home: str = ""

    def __post_init__(self) -> None:
        if not self.owner_attribute:
            object.__setattr__(self, "owner_attribute", self.profile.owner_attribute)

    @cached_property
    def all_rules(self) -> tuple[Rule, ...]:
        """The default rules, each replaced by the admin's override, then the other overrides."""
        overrides = {rule.attribute: rule for rule in self.rules}
        defaults = [
            overrides.pop(name) if name in overrides else parse_rule(name, text)
            for name, text in self.profile.default_mapping.items()
        ]
        return (*defaults, *overrides.values())

    def desire(self, person: Person, today: date) -> DesiredAccount:
        now = day_start(today, self.time_zone)
        attributes, problems = apply_rules(person, {}, self.all_rules, now)
        attributes = {name: self._fitted(name, value) for name, value in attributes.items()}
        attributes[self.owner_attribute] = person.person_id
        if self.usage_location:
            attributes[USAGE_LOCATION] = self.usage_location
        return DesiredAccount(
            person_id=person.person_id,
            employee_number=person.employee_number,
            name="",
            container="",
            is_enabled=person.employment.is_active_on(today),
            attributes=attributes,
            manager_id=person.manager_id,
            problems=tuple(f"{p.attribute}: {p.message}" for p in problems),
        )

    def _fitted(self, name: str, value: str | None) -> str | None:
        """As the profile's spec of the attribute takes it (AttributeSpec.fitted)."""
        spec = self.profile.spec(name)
        return spec.fitted(value) if spec is not None else value or None

    def derivations(self) -> Derivations:
        found = of_rules(self.all_rules, (rule.attribute for rule in self.rules))
        found[self.owner_attribute] = words("the person's id in the HR system")
        found[self.profile.manager_attribute] = words(
            "the object id of the user of the person named by [manager_id]", "manager_id"
        )
        if self.usage_location:
            found[USAGE_LOCATION] = words("the connection's usage_location")
        return found

    def new_account(
        self,
        person: Person,
        desired: DesiredAccount,
        container: str,
        taken: TakenNames,
        today: date,
    ) -> NewAccount:
        """given.family, numbered until both the UPN and the mailNickname are free."""
        base = login_base(person)
        for candidate in numbered(base):
            upn = f"{candidate}@{self.upn_suffix}"
            if not taken.is_taken(UPN, upn) and not taken.is_taken(MAIL_NICKNAME, candidate):
                taken.of_attribute(UPN).add(upn.casefold())
                taken.of_attribute(MAIL_NICKNAME).add(candidate.casefold())
                return NewAccount(
                    NEW_USER + person.person_id, "", {UPN: upn, MAIL_NICKNAME: candidate}
                )
        raise AssertionError("unreachable: numbered candidates are unbounded")


def login_base(person: Person) -> str:
    """given.family in login characters (a-z, 0-9, . and -); the employee number when the
    names give none."""
    parts = (login_part(person.given_name), login_part(person.family_name))
    base = ".".join(part for part in parts if part).strip(".")
    return base[:PREFIX_MAX].rstrip(".-") or f"u{login_part(person.employee_number) or 'ser'}"


def numbered(base: str) -> Iterator[str]:
    """base, base2, base3, … each within the 64 characters a prefix may have."""
    yield base
    number = 2
    while True:
        tail = str(number)
        yield base[: PREFIX_MAX - len(tail)].rstrip(".-") + tail
        number += 1
