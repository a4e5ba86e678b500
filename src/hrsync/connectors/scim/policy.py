"""The planner's view of one SCIM connection (an hrsync.engine.policy.AccountPolicy): the
preset's rules and the admin's overrides evaluated per person, the attributes synchronised,
and the userName a new user needs. SCIM has no containers and no renames: a changed userName
is an update like any other attribute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from hrsync.connectors.scim.profile import custom_field_path
from hrsync.domain.account import DesiredAccount
from hrsync.domain.lineage import Derivations
from hrsync.domain.person import Person
from hrsync.domain.profile import TargetProfile
from hrsync.engine.lineage import of_rules, words
from hrsync.engine.policy import FlatPolicy, NameUnavailableError, NewAccount, TakenNames
from hrsync.mapping.rules import Rule, apply_rules, day_start, parse_rule

NEW_USER = "new-user:"
"""A provisional ref: the SCIM id exists once the app has created the user."""
NEW_GROUP = "new-group:"
USER_NAME = "userName"


@dataclass(frozen=True)
class ScimPolicy(FlatPolicy):
    """One SCIM connection: its profile (with the preset), overrides, and the attributes it
    synchronises (empty: every attribute of the preset and the overrides)."""

    profile: TargetProfile
    rules: tuple[Rule, ...] = ()
    time_zone: str = "Europe/Stockholm"
    synchronised: tuple[str, ...] = ()
    owner_attribute: str = "externalId"
    home: str = ""
    custom_fields: tuple[str, ...] = ()
    """HR custom fields sent into the profile's custom extension (Winningtemp's), by name."""

    @cached_property
    def all_rules(self) -> tuple[Rule, ...]:
        """The preset's rules, each replaced by the admin's override of it, then the overrides
        for attributes the preset leaves out; only those synchronised."""
        overrides = {rule.attribute: rule for rule in self.rules}
        defaults = [
            overrides.pop(name) if name in overrides else parse_rule(name, text)
            for name, text in self.profile.default_mapping.items()
        ]
        chosen = [*defaults, *overrides.values()]
        taken = {rule.attribute for rule in chosen}
        chosen += [
            parse_rule(path, f"[custom.{name}]")
            for name in self.custom_fields
            if (path := custom_field_path(name)) not in taken
        ]
        if self.synchronised:
            keep = set(self.synchronised) | {USER_NAME}
            chosen = [rule for rule in chosen if rule.attribute in keep]
        return tuple(chosen)

    def desire(self, person: Person, today: date) -> DesiredAccount:
        now = day_start(today, self.time_zone)
        attributes, problems = apply_rules(person, {}, self.all_rules, now)
        attributes = {name: self._fitted(name, value) for name, value in attributes.items()}
        attributes[self.owner_attribute] = person.person_id
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
            "the SCIM id of the user of the person named by [manager_id]", "manager_id"
        )
        return found

    def new_account(
        self,
        person: Person,
        desired: DesiredAccount,
        container: str,
        taken: TakenNames,
        today: date,
    ) -> NewAccount:
        """A new user needs its userName (by default the work e-mail), unique in the app."""
        user_name = desired.attributes.get(USER_NAME)
        if not user_name:
            rule = next((r.text for r in self.all_rules if r.attribute == USER_NAME), "")
            dropped = "".join(f"; {warning}" for warning in person.warnings)
            raise NameUnavailableError(
                USER_NAME,
                f"userName is empty: its rule {rule} gives nothing for this person{dropped}",
            )
        if taken.is_taken(USER_NAME, user_name):
            raise NameUnavailableError(
                USER_NAME,
                f"userName {user_name} is taken by another user in the app, not linked to "
                "this person: link or rename that user in the app",
            )
        taken.of_attribute(USER_NAME).add(user_name.casefold())
        return NewAccount(NEW_USER + person.person_id, "", {})
