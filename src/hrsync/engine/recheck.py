"""Recheck an approved plan against the accounts as they are now: a change whose account moved
on since the plan was made is skipped, with the reason, instead of overwriting what happened.

What each change is checked against is what the plan itself saw, so nothing but the plan needs
to be kept: the ref an account had (the ref of its first change: renames and moves come first in
a plan, and later changes name the ref after them), that it exists, the `before` values an update
replaces, the manager a set-manager replaces, the enabled state an enable or disable flips, and,
for a create, that neither an account of the person nor one at its ref or with its unique names
(the profile's) appeared. Edits to attributes the plan does not touch do not make a change stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import assert_never

from hrsync.domain.account import Account
from hrsync.domain.changes import (
    Change,
    CreateAccount,
    CreateGroup,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    MoveAccount,
    RenameAccount,
    SetManager,
    UpdateAttributes,
)
from hrsync.domain.ids import AccountId
from hrsync.domain.plan import Plan
from hrsync.domain.profile import TargetProfile

AccountChange = (
    UpdateAttributes
    | MoveAccount
    | RenameAccount
    | EnableAccount
    | DisableAccount
    | DeleteAccount
    | SetManager
)
"""The changes made to an existing account: each is checked against what the plan saw of it.
Creates are checked for what would stand in their way; other changes (manual steps, and
changes that are not about one person's account) are applied as planned."""
MOVED_ON = "the account changed since the plan was held: "
TAKEN = "the target changed since the plan was held: "


@dataclass(frozen=True, slots=True)
class _Directory:
    """The accounts read now, indexed the ways a recheck looks them up."""

    by_id: Mapping[AccountId, Account]
    by_ref: Mapping[str, Account]
    by_owner: Mapping[str, Account]
    by_login: Mapping[str, Account]
    profile: TargetProfile

    @classmethod
    def of(
        cls, accounts: Iterable[Account], person_id_attribute: str, profile: TargetProfile
    ) -> _Directory:
        listed = list(accounts)
        return cls(
            by_id={a.account_id: a for a in listed},
            by_ref={profile.ref_key(a.ref): a for a in listed},
            by_owner={owner: a for a in listed if (owner := a.attributes.get(person_id_attribute))},
            by_login={
                login.casefold(): a
                for a in listed
                for name in profile.unique_names
                if (login := a.attributes.get(name))
            },
            profile=profile,
        )

    def key(self, ref: str) -> str:
        return self.profile.ref_key(ref)


def recheck_plan(
    plan: Plan, accounts: Iterable[Account], person_id_attribute: str, profile: TargetProfile
) -> dict[int, str]:
    """The changes of `plan` to skip, by their index in it, each with the reason. `accounts`:
    the target's accounts read now, before anything of the plan is applied."""
    directory = _Directory.of(accounts, person_id_attribute, profile)
    seen_ref: dict[AccountId, str] = {}
    for change in plan.changes:
        if isinstance(change, AccountChange) and change.account_id is not None:
            seen_ref.setdefault(change.account_id, change.ref)
    stale: dict[int, str] = {}
    # Where a skipped change would have put an account: a manager pointing there is stale too.
    missing: set[str] = set()
    for index, change in enumerate(plan.changes):
        reason = _why_stale(change, directory, seen_ref) or _awaits_skipped(
            change, missing, directory.key
        )
        if reason is not None:
            stale[index] = reason
            missing.update(directory.key(ref) for ref in [resulting_ref(change)] if ref)
    return stale


def resulting_ref(change: Change) -> str | None:
    """The ref of what the change creates, or of the account after a move or rename."""
    match change:
        case CreateAccount() | CreateGroup():
            return change.ref
        case MoveAccount() | RenameAccount():
            return change.new_ref or None
        case _:
            return None


def _why_stale(
    change: Change, directory: _Directory, seen_ref: Mapping[AccountId, str]
) -> str | None:
    if isinstance(change, CreateAccount):
        return _create_is_stale(change, directory)
    if not isinstance(change, AccountChange):
        return None
    account_id = change.account_id
    if account_id is None:
        return None  # a manager set on an account the plan creates: the create is checked
    account = directory.by_id.get(account_id)
    if account is None:
        return MOVED_ON + "it no longer exists"
    was = seen_ref[account_id]
    if directory.key(account.ref) != directory.key(was):
        return MOVED_ON + f"it is now {account.ref} (the plan saw {was})"
    return _values_moved_on(change, account, directory)


def _values_moved_on(change: AccountChange, account: Account, directory: _Directory) -> str | None:
    match change:
        case UpdateAttributes():
            differing = [
                f"{name} is now {_shown(account.attributes.get(name))} "
                f"(the plan saw {_shown(value)})"
                for name, value in change.before.items()
                if (account.attributes.get(name) or None) != (value or None)
            ]
            return MOVED_ON + "; ".join(differing) if differing else None
        case SetManager():
            now = account.attributes.get(directory.profile.manager_attribute)
            if directory.key(now or "") != directory.key(change.before or ""):
                return (
                    MOVED_ON
                    + f"manager is now {_shown(now)} (the plan saw {_shown(change.before)})"
                )
            return None
        case EnableAccount() if account.is_enabled:
            return MOVED_ON + "it is enabled already"
        case DisableAccount() if not account.is_enabled:
            return MOVED_ON + "it is disabled already"
        case EnableAccount() | DisableAccount() | MoveAccount() | RenameAccount() | DeleteAccount():
            return None  # the ref and the existence, checked above, are all they depend on
        case _:
            assert_never(change)


def _create_is_stale(change: CreateAccount, directory: _Directory) -> str | None:
    owned = directory.by_owner.get(change.person_id)
    if owned is not None:
        return TAKEN + f"the person has an account now, {owned.ref}"
    taken = directory.by_ref.get(directory.key(change.ref))
    if taken is not None:
        return TAKEN + f"{change.ref} is taken now"
    for name in directory.profile.unique_names:
        login = change.attributes.get(name)
        holder = directory.by_login.get(login.casefold()) if login else None
        if holder is not None:
            return TAKEN + f"{name} {login} is taken now, by {holder.ref}"
    return None


def _awaits_skipped(change: Change, missing: set[str], key: Callable[[str], str]) -> str | None:
    """A manager pointing at an account a skipped change would have created, moved or renamed."""
    if isinstance(change, SetManager) and change.after and key(change.after) in missing:
        return f"the manager's account is not at {change.after}: that change was skipped"
    return None


def _shown(value: str | None) -> str:
    return f"'{value}'" if value else "empty"
