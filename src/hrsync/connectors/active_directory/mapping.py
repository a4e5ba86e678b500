"""The mapping from a person to an Active Directory user, and the planner's view of one AD
connection (`DirectoryPolicy`, an hrsync.engine.policy.AccountPolicy): the defaults, then the
connection's per-attribute overrides in the mapping language, OU placement, and the names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hrsync.connectors.active_directory import dn, lineage, naming
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.connectors.active_directory.rules import place
from hrsync.domain.account import Account, Attributes, DesiredAccount
from hrsync.domain.lineage import Derivations
from hrsync.domain.person import Person
from hrsync.domain.profile import TargetProfile
from hrsync.engine.policy import NewAccount, TakenNames
from hrsync.mapping.rules import Rule, RuleProblem, apply_rules, day_start

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

    # --- hrsync.engine.policy.AccountPolicy ---------------------------------------------------

    @property
    def profile(self) -> TargetProfile:
        return AD_PROFILE

    @property
    def owner_attribute(self) -> str:
        return self.person_id_attribute

    @property
    def home(self) -> str:
        return self.users_ou

    def desire(self, person: Person, today: date) -> DesiredAccount:
        return desire_ad_account(person, self, today)

    def derivations(self) -> Derivations:
        return lineage.derivations(self)

    def new_account(
        self,
        person: Person,
        desired: DesiredAccount,
        container: str,
        taken: TakenNames,
        today: date,
    ) -> NewAccount:
        now = day_start(today, self.time_zone)
        sam, upn = naming.login_names(person, self, now, taken)
        cn = self.choose_name(desired, container, taken)
        return NewAccount(f"CN={dn.escape_dn_value(cn)},{container}", cn, {SAM: sam, UPN: upn})

    def keeps_name(self, current: str, desired: DesiredAccount) -> bool:
        return naming.is_cn_for(current, desired.name, desired.employee_number)

    def choose_name(
        self,
        desired: DesiredAccount,
        container: str,
        taken: TakenNames,
        *,
        passing_through: str | None = None,
    ) -> str:
        return naming.choose_cn(
            desired.name,
            desired.employee_number,
            container,
            taken,
            passing_through=passing_through,
        )

    def ref_in(self, name: str, container: str) -> str:
        return f"CN={dn.escape_dn_value(name)},{container}"

    def container_of(self, ref: str) -> str:
        return dn.parent_of(ref)

    def is_within(self, container: str, ancestor: str) -> bool:
        inner = [dn.normalise_dn(rdn) for rdn in dn.split_rdns(container)]
        outer = [dn.normalise_dn(rdn) for rdn in dn.split_rdns(ancestor)]
        return len(inner) >= len(outer) and inner[len(inner) - len(outer) :] == outer

    def on_rename(
        self, person: Person, account: Account, taken: TakenNames, today: date
    ) -> tuple[Attributes, Attributes]:
        """A renamed account's UPN made anew from its new name (`upn_on_rename = "follow"`)."""
        if not self.upn_follows_rename:
            return {}, {}
        current = account.attributes.get(UPN) or ""
        taken.of_attribute(UPN).discard(current.casefold())
        sam = account.attributes.get(SAM) or person.employee_number
        now = day_start(today, self.time_zone)
        upn = naming.upn_for(person, self, now, sam, taken)
        if upn.casefold() == current.casefold():
            return {}, {}
        return {UPN: current or None}, {UPN: upn}


SAM, UPN = naming.SAM, naming.UPN


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
        name=truncate("cn", person.display_name) or person.employee_number,
        container=parent_dn,
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
