"""The mapping from a person to an Active Directory user: the defaults, then the connection's
per-attribute overrides in the mapping language (hrsync.mapping.ad_rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hrsync.domain.account import Attributes, DesiredAccount
from hrsync.domain.person import Person
from hrsync.mapping.ad_rules import Rule, RuleProblem, apply_rules, day_start, place

# AD schema rangeUpper limits; longer values are refused by the server, so cut them here.
AD_LIMITS = {
    "cn": 64,
    "givenName": 64,
    "sn": 64,
    "displayName": 256,
    "mail": 256,
    "employeeID": 16,
    "employeeNumber": 512,
    "title": 128,
    "department": 64,
    "company": 64,
    "telephoneNumber": 64,
    "mobile": 64,
    "streetAddress": 1024,
    "postalCode": 40,
    "l": 128,
    "physicalDeliveryOfficeName": 128,
}


@dataclass(frozen=True, slots=True)
class DirectoryPolicy:
    """What the planner needs to know about one AD connection."""

    users_ou: str
    upn_suffix: str
    person_id_attribute: str = "employeeNumber"
    rules: tuple[Rule, ...] = ()
    """The connection's overrides, parsed (ad_rules.parse_rules)."""
    time_zone: str = "Europe/Stockholm"
    """The connection's zone: Now() in a rule is the start of the plan's day there."""
    placement: Rule | None = None
    """The OU placement rule (ad_rules.parse_placement); None: everyone in `users_ou`."""
    base_dn: str = ""
    """Where placement paths start."""
    sam_rule: Rule | None = None
    """The naming rule for sAMAccountName; None: first letter + family name, numbered."""
    upn_rule: Rule | None = None
    """The naming rule for the UPN's part before the @; None: given.family, numbered."""
    upn_follows_rename: bool = False
    """Whether a renamed account gets a UPN made from its new name; by default the UPN it was
    created with is kept (people sign in with it)."""

    @property
    def managed_attributes(self) -> tuple[str, ...]:
        extra = tuple(r.attribute for r in self.rules if r.attribute not in MANAGED_ATTRIBUTES)
        return (*MANAGED_ATTRIBUTES, *extra, self.person_id_attribute)


MANAGED_ATTRIBUTES = (
    "givenName",
    "sn",
    "displayName",
    "mail",
    "employeeID",
    "title",
    "department",
    "company",
    "telephoneNumber",
    "mobile",
    "streetAddress",
    "postalCode",
    "l",
    "physicalDeliveryOfficeName",
)


def desire_ad_account(person: Person, policy: DirectoryPolicy, today: date) -> DesiredAccount:
    """The account this person should have; names are made unique later by the planner."""
    attributes: Attributes = {
        "givenName": person.given_name,
        "sn": person.family_name,
        "displayName": person.display_name,
        "mail": person.email,
        "employeeID": person.employee_number,
        "title": person.employment.title,
        "department": person.organisation_value("Department"),
        "company": person.employment.company_name or None,
        "telephoneNumber": person.phone,
        "mobile": person.mobile,
        "streetAddress": person.street,
        "postalCode": person.postal_code,
        "l": person.city,
        "physicalDeliveryOfficeName": person.organisation_value("Office"),
        policy.person_id_attribute: person.person_id,
    }
    problems: tuple[RuleProblem, ...] = ()
    parent_dn = policy.users_ou
    if policy.rules or policy.placement:
        now = day_start(today, policy.time_zone)
        attributes, problems = apply_rules(person, attributes, policy.rules, now)
        placed = place(person, policy.placement, policy.base_dn, now) if policy.placement else None
        if isinstance(placed, RuleProblem):
            problems += (placed,)
            parent_dn = ""  # unknown: an account stays where it is, a new one goes to users_ou
        elif placed is not None:
            parent_dn = placed
    return DesiredAccount(
        person_id=person.person_id,
        employee_number=person.employee_number,
        cn=truncate("cn", person.display_name) or person.employee_number,
        parent_dn=parent_dn,
        is_enabled=person.employment.is_active_on(today),
        attributes={name: truncate(name, value) for name, value in attributes.items()},
        manager_id=person.manager_id,
        problems=tuple(f"{p.attribute}: {p.message}" for p in problems),
    )


def truncate(attribute: str, value: str | None) -> str | None:
    """Cut a value to the attribute's AD limit; empty becomes None (absent)."""
    if not value:
        return None
    limit = AD_LIMITS.get(attribute)
    return value[:limit].rstrip() if limit else value
