"""The closed set of planned operations; consumers `match` on `Change`, ending in `assert_never`."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.domain.account import Attributes
from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId


@dataclass(frozen=True, slots=True)
class CreateAccount:
    person_id: PersonId
    employee_number: EmployeeNumber
    dn: str
    attributes: Attributes
    is_enabled: bool
    reason: str


@dataclass(frozen=True, slots=True)
class UpdateAttributes:
    person_id: PersonId
    account_id: AccountId
    dn: str
    before: Attributes
    after: Attributes
    reason: str


@dataclass(frozen=True, slots=True)
class MoveAccount:
    person_id: PersonId
    account_id: AccountId
    dn: str
    new_parent_dn: str
    reason: str


@dataclass(frozen=True, slots=True)
class RenameAccount:
    person_id: PersonId
    account_id: AccountId
    dn: str
    new_cn: str
    reason: str


@dataclass(frozen=True, slots=True)
class EnableAccount:
    person_id: PersonId
    account_id: AccountId
    dn: str
    reason: str


@dataclass(frozen=True, slots=True)
class DisableAccount:
    person_id: PersonId
    account_id: AccountId
    dn: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeleteAccount:
    person_id: PersonId
    account_id: AccountId
    dn: str
    reason: str


@dataclass(frozen=True, slots=True)
class SetManager:
    person_id: PersonId
    account_id: AccountId | None
    """None when the account is created by the same plan."""
    dn: str
    before: str | None
    after: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ManualStep:
    """Something hrsync cannot do alone; shown to an admin, retried on the next run."""

    person_id: PersonId
    dn: str | None
    reason: str
    detail: dict[str, str]


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
)

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
}


def kind_of(change: Change) -> str:
    """The short name used in plan counts, the API and the CLI."""
    return CHANGE_KINDS[type(change)]
