"""Recheck an approved plan against the accounts as they are now: a change whose account moved
on since the plan was made is skipped, with the reason, instead of overwriting what happened.

What each change is checked against is what the plan itself saw, so nothing but the plan needs
to be kept: the DN an account had (the DN of its first change: renames and moves come first in a
plan, and later changes name the DN after them), that it exists, the `before` values an update
replaces, the manager a set-manager replaces, the enabled state an enable or disable flips, and,
for a create, that neither an account of the person nor one at its DN or with its login names
appeared. Edits to attributes the plan does not touch do not make a change stale.
"""

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
    MoveAccount,
    RenameAccount,
    SetManager,
    UpdateAttributes,
)
from hrsync.domain.ids import AccountId
from hrsync.domain.plan import Plan
from hrsync.mapping.names import escape_dn_value, normalise_dn, parent_of, split_first_rdn

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
TAKEN = "the directory changed since the plan was held: "
LOGIN_NAMES = ("sAMAccountName", "userPrincipalName")


@dataclass(frozen=True, slots=True)
class _Directory:
    """The accounts read now, indexed the ways a recheck looks them up."""

    by_id: Mapping[AccountId, Account]
    by_dn: Mapping[str, Account]
    by_owner: Mapping[str, Account]
    by_login: Mapping[str, Account]

    @classmethod
    def of(cls, accounts: Iterable[Account], person_id_attribute: str) -> _Directory:
        listed = list(accounts)
        return cls(
            by_id={a.account_id: a for a in listed},
            by_dn={normalise_dn(a.dn): a for a in listed},
            by_owner={owner: a for a in listed if (owner := a.attributes.get(person_id_attribute))},
            by_login={
                login.casefold(): a
                for a in listed
                for name in LOGIN_NAMES
                if (login := a.attributes.get(name))
            },
        )


def recheck_plan(
    plan: Plan, accounts: Iterable[Account], person_id_attribute: str
) -> dict[int, str]:
    """The changes of `plan` to skip, by their index in it, each with the reason. `accounts`:
    the target's accounts read now, before anything of the plan is applied."""
    directory = _Directory.of(accounts, person_id_attribute)
    seen_dn: dict[AccountId, str] = {}
    for change in plan.changes:
        if isinstance(change, AccountChange) and change.account_id is not None:
            seen_dn.setdefault(change.account_id, change.dn)
    stale: dict[int, str] = {}
    # Where a skipped change would have put an account: a manager pointing there is stale too.
    missing_dns: set[str] = set()
    for index, change in enumerate(plan.changes):
        reason = _why_stale(change, directory, seen_dn) or _awaits_skipped(change, missing_dns)
        if reason is not None:
            stale[index] = reason
            missing_dns.update(normalise_dn(dn) for dn in [resulting_dn(change)] if dn)
    return stale


def resulting_dn(change: Change) -> str | None:
    """Where the account is after the change, when the change creates it or changes its DN."""
    match change:
        case CreateAccount():
            return change.dn
        case MoveAccount():
            return f"{split_first_rdn(change.dn)[0]},{change.new_parent_dn}"
        case RenameAccount():
            return f"CN={escape_dn_value(change.new_cn)},{parent_of(change.dn)}"
        case _:
            return None


def _why_stale(
    change: Change, directory: _Directory, seen_dn: Mapping[AccountId, str]
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
    was = seen_dn[account_id]
    if normalise_dn(account.dn) != normalise_dn(was):
        return MOVED_ON + f"it is now {account.dn} (the plan saw {was})"
    return _values_moved_on(change, account)


def _values_moved_on(change: AccountChange, account: Account) -> str | None:
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
            now = account.attributes.get("manager")
            if normalise_dn(now or "") != normalise_dn(change.before or ""):
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
            return None  # the DN and the existence, checked above, are all they depend on
        case _:
            assert_never(change)


def _create_is_stale(change: CreateAccount, directory: _Directory) -> str | None:
    owned = directory.by_owner.get(change.person_id)
    if owned is not None:
        return TAKEN + f"the person has an account now, {owned.dn}"
    taken = directory.by_dn.get(normalise_dn(change.dn))
    if taken is not None:
        return TAKEN + f"{change.dn} is taken now"
    for name in LOGIN_NAMES:
        login = change.attributes.get(name)
        holder = directory.by_login.get(login.casefold()) if login else None
        if holder is not None:
            return TAKEN + f"{name} {login} is taken now, by {holder.dn}"
    return None


def _awaits_skipped(change: Change, missing_dns: set[str]) -> str | None:
    """A manager pointing at an account a skipped change would have created, moved or renamed."""
    if (
        isinstance(change, SetManager)
        and change.after
        and normalise_dn(change.after) in missing_dns
    ):
        return f"the manager's account is not at {change.after}: that change was skipped"
    return None


def _shown(value: str | None) -> str:
    return f"'{value}'" if value else "empty"
