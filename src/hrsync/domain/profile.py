"""What a kind of target declares as data: its attributes, capabilities, correlation keys,
default mapping and unique names. The planner, the gate, the diff and the console read it;
nothing outside `connectors/` and the wiring module names a kind."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def same_text(ref: str) -> str:
    """The key of a ref that is compared as it is (SCIM and Graph ids, row keys)."""
    return ref


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One attribute of a target's accounts, as its schema gives it."""

    name: str
    """The attribute's name or path as the target knows it (`mail`, `name.givenName`)."""
    label: str = ""
    """What an admin of the target calls it, for diffs and the console."""
    is_multi_valued: bool = False
    is_required: bool = False
    max_length: int | None = None
    """Longer values are cut to it (AD's rangeUpper) or refused, as the profile says."""
    allowed: str | None = None
    """A regular expression every value must match, when the target restricts characters."""
    is_unique: bool = False
    """Unique in the target, compared case-insensitively."""

    @property
    def shown(self) -> str:
        return self.label or self.name

    def fitted(self, value: str | None) -> str | None:
        """`value` as the target takes it: cut to `max_length`; None when empty or when
        `allowed` refuses it (the attribute is then left out)."""
        if not value:
            return None
        if self.max_length is not None:
            value = value[: self.max_length].rstrip()
        if self.allowed is not None and re.fullmatch(self.allowed, value) is None:
            return None
        return value or None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a target can do; the planner plans only what the target has."""

    hierarchy: bool = False
    """Accounts live in containers (AD: OUs) and can be moved between them."""
    rename: bool = False
    """The naming attribute is changed by a rename that changes the ref (AD: the CN)."""
    groups: bool = False
    member_reference: str = "ref"
    """How a group names its members: by the member's ref (AD: DN; SCIM: resource id)."""
    manager: bool = False
    """The account can reference its manager's account."""
    disable: bool = True
    disable_removes: bool = False
    """Disabling takes the account out of what the target's users see (a CSV row left out of
    the delivered file): the safety gate counts disables as deletes too."""
    delete: bool = True
    incremental_read: bool = False
    batch: bool = False


@dataclass(frozen=True, slots=True)
class CorrelationKey:
    """An account attribute that matches a person's field, tried in order after the link and
    the person id hrsync wrote (an account made by hand or by an earlier tool)."""

    attribute: str
    person_field: str
    """A person field name as the mapping language has it: employee_number, email, …"""


@dataclass(frozen=True, slots=True)
class TargetProfile:
    """One kind of target as data (hrsync.connectors.<kind>.profile builds it)."""

    kind: str
    label: str
    attributes: tuple[AttributeSpec, ...]
    capabilities: Capabilities
    correlation: tuple[CorrelationKey, ...]
    default_mapping: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Attribute → expression in the mapping language: what an account has by default."""
    unique_names: tuple[str, ...] = ()
    """Attributes whose values must be unique in the whole target (AD: sAMAccountName, UPN;
    SCIM: userName), case-insensitively. The naming attribute, where there is one, must be
    unique within its container."""
    owner_attribute: str = "externalId"
    """Where hrsync writes the person id on an account, unless a connection says otherwise."""
    naming_attribute: str | None = None
    """The attribute a rename changes, for targets with the rename capability (AD: cn)."""
    manager_attribute: str = "manager"
    """Where an account keeps its manager's ref, for targets with the manager capability."""
    ref_label: str = "Account"
    """What a ref is called in diffs and comments (AD: "Distinguished name"; SCIM: "SCIM id")."""
    where_label: str = "Target"
    """What the place accounts live in is called in comments (AD: "Base DN")."""
    container_label: str = "Container"
    """What an account's container is called in diffs, for targets with hierarchy (AD: "OU")."""
    """What the place accounts live in is called in comments (AD: "Base DN")."""
    naming_rules: bool = False
    """Whether a connection may give its own rules for the unique names of new accounts (AD's
    `[naming]` sam and upn); elsewhere the mapping gives every name."""
    username_attribute: str | None = None
    """The attribute people sign in with, named on tickets (AD: sAMAccountName)."""
    ref_key: Callable[[str], str] = same_text
    """Two refs name the same account when their keys are equal (AD: DNs compared by value)."""
    split_ref: Callable[[str], tuple[str, str]] | None = None
    """(name, container) a ref spells out, for targets whose refs do (AD's DNs); None where a
    ref is an opaque id."""

    default_schedule: str = ""
    """The schedule the console proposes for a new connection (a file delivered nightly:
    "0 2 * * *"); empty: the console's own default."""

    mappable: str = r"^[A-Za-z][A-Za-z0-9-]{0,62}$"
    """A regular expression for the attribute names an admin's rules may set."""
    mappable_described: str = "an LDAP attribute name (letters, digits and -, from a letter)"
    set_by_hrsync: frozenset[str] = frozenset()
    """Attributes hrsync sets itself (names, state, references): not mappable."""

    def spec(self, name: str) -> AttributeSpec | None:
        return next((spec for spec in self.attributes if spec.name == name), None)

    def label_of(self, name: str) -> str:
        """An attribute as the target's admin knows it; the name itself when not declared."""
        spec = self.spec(name)
        return spec.shown if spec is not None else name
