"""An account as a target holds it, and the desired state hrsync computes for a person."""

from __future__ import annotations

from dataclasses import dataclass, field

from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId

Attributes = dict[str, str | None]
"""Single-valued attributes by name; None means absent (or, when desired, to be cleared)."""


@dataclass(frozen=True, slots=True, eq=True)
class Account:
    """One account read from a target. `attributes` holds only the attributes hrsync manages."""

    account_id: AccountId
    dn: str
    is_enabled: bool
    attributes: Attributes = field(default_factory=dict)

    @property
    def rdn_value(self) -> str:
        """The value of the first RDN (AD: the CN), unescaped by the connector on read."""
        return self.attributes.get("cn") or ""

    @property
    def parent_dn(self) -> str:
        return self.attributes.get("_parent") or ""


@dataclass(frozen=True, slots=True)
class DesiredAccount:
    """What one person's account should look like in one target, computed by the mapping."""

    person_id: PersonId
    employee_number: EmployeeNumber
    cn: str
    parent_dn: str
    """Empty when the placement rule failed for the person: the account stays where it is."""
    is_enabled: bool
    attributes: Attributes
    """Managed attributes, compared on every run."""
    create_only: Attributes = field(default_factory=dict)
    """Set when the account is created, never compared afterwards (sAMAccountName, UPN)."""
    manager_id: PersonId | None = None
    problems: tuple[str, ...] = ()
    """Mapping rules that failed for this person; their attributes are left as they are."""
