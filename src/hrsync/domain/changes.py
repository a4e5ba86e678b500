"""The closed set of planned operations; consumers `match` on `Change`, ending in `assert_never`."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.domain.account import Attributes
from hrsync.domain.ids import AccountId, EmployeeNumber, GroupId, PersonId
from hrsync.domain.lineage import NO_LINEAGE, Lineage


@dataclass(frozen=True, slots=True)
class CreateAccount:
    person_id: PersonId
    employee_number: EmployeeNumber
    ref: str
    attributes: Attributes
    is_enabled: bool
    reason: str
    lineage: Lineage = NO_LINEAGE
    """What the plan's rules read for this change (hrsync.domain.lineage)."""


@dataclass(frozen=True, slots=True)
class UpdateAttributes:
    person_id: PersonId
    account_id: AccountId
    ref: str
    before: Attributes
    after: Attributes
    reason: str
    lineage: Lineage = NO_LINEAGE
    """What the plan's rules read for this change (hrsync.domain.lineage)."""


@dataclass(frozen=True, slots=True)
class MoveAccount:
    """Only for targets with the hierarchy capability."""

    person_id: PersonId
    account_id: AccountId
    ref: str
    new_container: str
    reason: str
    lineage: Lineage = NO_LINEAGE
    """What the plan's rules read for this change (hrsync.domain.lineage)."""
    new_ref: str = ""
    """The account's ref after the move, as the planner's policy gives it."""


@dataclass(frozen=True, slots=True)
class RenameAccount:
    """Only for targets with the rename capability: the naming attribute changes the ref."""

    person_id: PersonId
    account_id: AccountId
    ref: str
    new_name: str
    reason: str
    lineage: Lineage = NO_LINEAGE
    """What the plan's rules read for this change (hrsync.domain.lineage)."""
    new_ref: str = ""
    """The account's ref after the rename, as the planner's policy gives it."""


@dataclass(frozen=True, slots=True)
class EnableAccount:
    person_id: PersonId
    account_id: AccountId
    ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class DisableAccount:
    person_id: PersonId
    account_id: AccountId
    ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeleteAccount:
    person_id: PersonId
    account_id: AccountId
    ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class SetManager:
    person_id: PersonId
    account_id: AccountId | None
    """None when the account is created by the same plan."""
    ref: str
    before: str | None
    after: str | None
    reason: str
    lineage: Lineage = NO_LINEAGE
    """What the plan's rules read for this change (hrsync.domain.lineage)."""


@dataclass(frozen=True, slots=True)
class ManualStep:
    """Something hrsync cannot do alone; shown to an admin, retried on the next run."""

    person_id: PersonId
    ref: str | None
    reason: str
    detail: dict[str, str]


@dataclass(frozen=True, slots=True)
class CreateGroup:
    """A security group for one organisation unit, created empty (members follow)."""

    group_id: GroupId
    ref: str
    attributes: Attributes
    """sAMAccountName, displayName, description."""
    scope: str
    """"global" or "universal"."""
    reason: str


@dataclass(frozen=True, slots=True)
class UpdateGroup:
    """A group's names follow its unit: displayName and description replaced, the CN renamed
    when `new_name` is set; also hrsync's bookkeeping (hrsync.domain.groups.EMPTY_SINCE)."""

    group_id: GroupId
    ref: str
    new_name: str | None
    before: Attributes
    after: Attributes
    reason: str
    new_ref: str = ""
    """The group's ref after a rename (`new_name` set); empty otherwise."""


@dataclass(frozen=True, slots=True)
class AddMembers:
    """Accounts and child groups (by ref) added to one group, in one batch."""

    group_id: GroupId
    ref: str
    members: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class RemoveMembers:
    group_id: GroupId
    ref: str
    members: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class RetireGroup:
    """Delete a group hrsync made, once it has been empty for the grace period."""

    group_id: GroupId
    ref: str
    reason: str


Change = (
    CreateAccount
    | UpdateAttributes
    | MoveAccount
    | RenameAccount
    | EnableAccount
    | DisableAccount
    | DeleteAccount
    | SetManager
    | ManualStep
    | CreateGroup
    | UpdateGroup
    | AddMembers
    | RemoveMembers
    | RetireGroup
)
GroupChange = CreateGroup | UpdateGroup | AddMembers | RemoveMembers | RetireGroup
"""The changes to groups: they belong to no person (no `person_id`); `isinstance` takes it."""

CHANGE_KINDS: dict[type[Change], str] = {
    CreateAccount: "create",
    UpdateAttributes: "update",
    MoveAccount: "move",
    RenameAccount: "rename",
    EnableAccount: "enable",
    DisableAccount: "disable",
    DeleteAccount: "delete",
    SetManager: "set_manager",
    ManualStep: "manual",
    CreateGroup: "create_group",
    UpdateGroup: "update_group",
    AddMembers: "add_members",
    RemoveMembers: "remove_members",
    RetireGroup: "retire_group",
}


def kind_of(change: Change) -> str:
    """The short name used in plan counts, the API and the CLI."""
    return CHANGE_KINDS[type(change)]
