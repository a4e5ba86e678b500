"""Where each person's account will be once a plan is applied, and whether it will be enabled:
what group memberships are computed against (new accounts exist by then, renamed and moved ones
have their new refs). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import assert_never

from hrsync.domain.account import Account
from hrsync.domain.changes import (
    Change,
    CreateAccount,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    GroupChange,
    ManualStep,
    MoveAccount,
    RenameAccount,
    SetManager,
    UpdateAttributes,
)
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.profile import TargetProfile


@dataclass(frozen=True, slots=True)
class AccountsAfter:
    """The persons' accounts after a plan."""

    refs: Mapping[PersonId, str]
    """Each person's account ref after the plan, enabled or not (deleted ones are absent)."""
    enabled: frozenset[PersonId]
    """The persons whose account will be enabled: the ones groups hold."""
    renamed: Mapping[str, str | None]
    """Ref key now → ref after the plan (None: deleted), for every person's account: how a
    group's current members are read in the plan's terms."""
    new_logins: frozenset[str] = frozenset()
    """The unique names (AD: sAMAccountName, UPN) the plan gives new accounts, case-folded:
    taken for new groups too."""


@dataclass(slots=True)
class _State:
    person_id: PersonId
    ref: str
    is_enabled: bool


def accounts_after(
    accounts: Iterable[Account],
    links: Mapping[PersonId, AccountId],
    changes: Iterable[Change],
    person_id_attribute: str,
    profile: TargetProfile,
) -> AccountsAfter:
    """Play `changes` (an account plan) over `accounts`. An account belongs to a person by its
    link, else by the person id it carries, else by the plan's changes to it (an account made by
    hand that the plan correlated and now writes the person id on); accounts of no person are
    not followed."""
    changes = list(changes)
    owners = {account_id: pid for pid, account_id in links.items()}
    claimed = {
        change.account_id: change.person_id
        for change in changes
        if not isinstance(change, GroupChange | ManualStep | CreateAccount)
        and change.account_id is not None
    }
    states: dict[AccountId, _State] = {}
    before: dict[AccountId, str] = {}
    for account in accounts:
        owner = (
            owners.get(account.account_id)
            or account.attributes.get(person_id_attribute)
            or claimed.get(account.account_id)
        )
        if owner:
            states[account.account_id] = _State(PersonId(owner), account.ref, account.is_enabled)
            before[account.account_id] = profile.ref_key(account.ref)
    created: list[_State] = []
    logins: set[str] = set()
    for change in changes:
        _play(change, states, created)
        if isinstance(change, CreateAccount):
            logins.update(
                login.casefold()
                for name in profile.unique_names
                if (login := change.attributes.get(name))
            )
    live = [*states.values(), *created]
    return AccountsAfter(
        refs={state.person_id: state.ref for state in live},
        enabled=frozenset(state.person_id for state in live if state.is_enabled),
        renamed={
            key: states[account_id].ref if account_id in states else None
            for account_id, key in before.items()
        },
        new_logins=frozenset(logins),
    )


def _play(change: Change, states: dict[AccountId, _State], created: list[_State]) -> None:
    if isinstance(change, GroupChange | ManualStep):
        return
    if isinstance(change, CreateAccount):
        created.append(_State(change.person_id, change.ref, change.is_enabled))
        return
    state = states.get(change.account_id) if change.account_id is not None else None
    if state is None:
        return
    match change:
        case MoveAccount() | RenameAccount():
            state.ref = change.new_ref or state.ref
        case EnableAccount() | DisableAccount():
            state.is_enabled = isinstance(change, EnableAccount)
        case DeleteAccount():
            del states[change.account_id]
        case UpdateAttributes() | SetManager():
            pass
        case _:
            assert_never(change)
