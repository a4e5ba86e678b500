"""What the planner asks of one connection's target: its profile, the desired account of a
person, and names for new and renamed accounts. A connector implements `AccountPolicy`; the
planner never names a kind of target (hrsync.connectors.<kind>.policy)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from hrsync.domain.account import Account, Attributes, DesiredAccount
from hrsync.domain.lineage import Derivations
from hrsync.domain.person import Person
from hrsync.domain.profile import TargetProfile


@dataclass(slots=True)
class TakenNames:
    """Names in use in the target and those handed out earlier in this plan, case-folded: the
    profile's unique names by attribute, and the naming attribute within each container."""

    values: dict[str, set[str]] = field(default_factory=dict)
    named: set[tuple[str, str]] = field(default_factory=set)
    """(the container's ref key, case-folded name), for targets whose names are unique per
    container (AD: the CN in its OU)."""

    @classmethod
    def of(cls, accounts: Iterable[Account], profile: TargetProfile) -> TakenNames:
        taken = cls({name: set() for name in profile.unique_names})
        naming = profile.naming_attribute
        for account in accounts:
            for name in profile.unique_names:
                if value := account.attributes.get(name):
                    taken.values[name].add(value.casefold())
            if naming is not None:
                own = account.attributes.get(naming) or ""
                taken.named.add((profile.ref_key(account.container), own.casefold()))
        return taken

    def of_attribute(self, attribute: str) -> set[str]:
        """The case-folded values of `attribute` in use (a live set: add to take one)."""
        return self.values.setdefault(attribute, set())

    def is_taken(self, attribute: str, value: str) -> bool:
        return value.casefold() in self.of_attribute(attribute)

    def reserve(self, names: Iterable[tuple[str, str]]) -> None:
        """(attribute, value) pairs in use outside the accounts read (AD: the whole domain)."""
        for attribute, value in names:
            self.of_attribute(attribute).add(value.casefold())


@dataclass(frozen=True, slots=True)
class NewAccount:
    """How a new account is named: its ref (for targets that give the ref only when they
    create it, a provisional one the apply step replaces), its name, the names it takes."""

    ref: str
    name: str
    attributes: Attributes
    """Set on create besides the mapping's: login names (AD: sAMAccountName and UPN)."""


class NameUnavailableError(Exception):
    """A new account cannot be named: a unique value it needs is taken or missing. The planner
    makes it a manual step for the person, with this message."""

    def __init__(self, attribute: str, message: str) -> None:
        super().__init__(message)
        self.attribute = attribute


class AccountPolicy(Protocol):
    """One connection's target as the planner needs it. Members about containers and renames
    are asked only when the profile has the `hierarchy` or `rename` capability."""

    @property
    def profile(self) -> TargetProfile: ...

    @property
    def owner_attribute(self) -> str:
        """Where the target's accounts carry the person id hrsync writes."""
        ...

    @property
    def home(self) -> str:
        """The container new accounts go into; empty for targets without hierarchy."""
        ...

    @property
    def time_zone(self) -> str: ...

    def desire(self, person: Person, today: date) -> DesiredAccount:
        """The account this person should have; its names are made unique by `new_account`."""
        ...

    def derivations(self) -> Derivations:
        """How each attribute of the connection's accounts is computed (lineage)."""
        ...

    def new_account(
        self,
        person: Person,
        desired: DesiredAccount,
        container: str,
        taken: TakenNames,
        today: date,
    ) -> NewAccount:
        """Names for a new account in `container`, unique against `taken`, which then holds
        them (naming rules read Now() as the start of `today`); NameUnavailableError when it
        cannot be named."""
        ...

    def keeps_name(self, current: str, desired: DesiredAccount) -> bool:
        """Whether an account named `current` may keep its name (rename capability)."""
        ...

    def choose_name(
        self,
        desired: DesiredAccount,
        container: str,
        taken: TakenNames,
        *,
        passing_through: str | None = None,
    ) -> str:
        """A name free in `container` (and in `passing_through`, where an account is renamed
        before it moves); `taken` then holds it (rename capability)."""
        ...

    def ref_in(self, name: str, container: str) -> str:
        """The ref of the account named `name` in `container` (rename or hierarchy)."""
        ...

    def container_of(self, ref: str) -> str:
        """The container an account's ref places it in (hierarchy)."""
        ...

    def is_within(self, container: str, ancestor: str) -> bool:
        """Whether `container` is `ancestor` or lies below it (hierarchy)."""
        ...

    def on_rename(
        self, person: Person, account: Account, taken: TakenNames, today: date
    ) -> tuple[Attributes, Attributes]:
        """(before, after) of attributes that follow a rename (AD: the UPN, when the
        connection says so); empty when none do."""
        ...


class FlatPolicy:
    """The members of `AccountPolicy` about containers and renames, for a target that has
    neither (SCIM, CSV): the planner never asks them of such a target, and these answer
    as if it did."""

    def keeps_name(self, current: str, desired: DesiredAccount) -> bool:
        return True

    def choose_name(
        self,
        desired: DesiredAccount,
        container: str,
        taken: TakenNames,
        *,
        passing_through: str | None = None,
    ) -> str:
        return desired.name

    def ref_in(self, name: str, container: str) -> str:
        raise NotImplementedError("this target's refs are ids, not names in containers")

    def container_of(self, ref: str) -> str:
        return ""

    def is_within(self, container: str, ancestor: str) -> bool:
        return False

    def on_rename(
        self, person: Person, account: Account, taken: TakenNames, today: date
    ) -> tuple[Attributes, Attributes]:
        return {}, {}
