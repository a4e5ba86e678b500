"""An account as a target holds it, and the desired state hrsync computes for a person."""

from __future__ import annotations

from dataclasses import dataclass, field

from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId

Attributes = dict[str, str | None]
"""Single-valued attributes by name; None means absent (or, when desired, to be cleared)."""


@dataclass(frozen=True, slots=True, eq=True)
class Account:
    """One account read from a target. `attributes` holds only the attributes hrsync manages.

    `account_id` is the target's immutable id (AD: the objectGUID; SCIM and Graph: the resource
    id; CSV: the row key). `ref` is how the target addresses the account now: AD's DN (which a
    move or rename changes), the resource id elsewhere. The engine never looks inside a ref: it
    only compares refs (through the profile's `same_ref`) and hands them back to the target."""

    account_id: AccountId
    ref: str
    is_enabled: bool
    attributes: Attributes = field(default_factory=dict)
    container: str = ""
    """Where the account lives, for targets with hierarchy (AD: the parent OU's DN)."""


@dataclass(frozen=True, slots=True)
class DesiredAccount:
    """What one person's account should look like in one target, computed by the mapping."""

    person_id: PersonId
    employee_number: EmployeeNumber
    name: str
    """The value of the naming attribute, for targets that rename (AD: the CN)."""
    container: str
    """For targets with hierarchy; empty when the placement rule failed for the person (the
    account stays where it is) or the target has none."""
    is_enabled: bool
    attributes: Attributes
    """Managed attributes, compared on every run."""
    create_only: Attributes = field(default_factory=dict)
    """Set when the account is created, never compared afterwards (sAMAccountName, UPN)."""
    manager_id: PersonId | None = None
    problems: tuple[str, ...] = ()
    """Mapping rules that failed for this person; their attributes are left as they are."""
