"""An in-memory directory for engine tests: applies changes as AD would, and can inject faults.

It is held to the same contract as the real targets (tests/contract): names come from the DN
unescaped, as AD reads them back, so a fake that drifts fails a test instead of hiding a bug."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import ClassVar, assert_never

from hrsync.connectors.active_directory.dn import (
    escape_dn_value,
    normalise_dn,
    parent_of,
    split_first_rdn,
    unescape_dn_value,
)
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.domain.account import Account
from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateAccount,
    CreateGroup,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    ManualStep,
    MoveAccount,
    RemoveMembers,
    RenameAccount,
    RetireGroup,
    SetManager,
    UpdateAttributes,
    UpdateGroup,
)
from hrsync.domain.errors import AlreadyExistsError, NotFoundError, RejectedError, TransientError
from hrsync.domain.groups import EMPTY_SINCE, HRSYNC_ID, Group
from hrsync.domain.ids import AccountId, GroupId
from hrsync.domain.profile import TargetProfile
from hrsync.ports import Applied


@dataclass
class MemoryDirectory:
    accounts: dict[str, Account] = field(default_factory=dict)  # by normalised DN
    groups: dict[str, Group] = field(default_factory=dict)  # by normalised DN
    fail_transient: int = 0
    reject_cns: set[str] = field(default_factory=set)
    key: str = "memory"
    profile: ClassVar[TargetProfile] = AD_PROFILE
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def check(self) -> None:
        return None

    def read_accounts(self) -> list[Account]:
        return list(self.accounts.values())

    def read_groups(self) -> list[Group]:
        return list(self.groups.values())

    def apply(self, change: Change) -> Applied:
        if self.fail_transient:
            self.fail_transient -= 1
            raise TransientError("directory busy")
        match change:
            case CreateAccount():
                return self._create(change)
            case UpdateAttributes():
                self._edit(change.ref, lambda a: _with(a, change.after))
            case MoveAccount():
                return self._relocate(change.ref, _rdn(change.ref), change.new_container)
            case RenameAccount():
                new_rdn = f"CN={escape_dn_value(change.new_name)}"
                return self._relocate(change.ref, new_rdn, parent_of(change.ref), change.new_name)
            case EnableAccount() | DisableAccount():
                enabled = isinstance(change, EnableAccount)
                self._edit(change.ref, lambda a: dataclasses.replace(a, is_enabled=enabled))
            case DeleteAccount():
                self.accounts.pop(self._key(change.ref))
                self._repoint_members(change.ref, None)
            case SetManager():
                self._edit(change.ref, lambda a: _with(a, {"manager": change.after}))
            case ManualStep():
                raise RejectedError("manual step")
            case CreateGroup() | UpdateGroup() | AddMembers() | RemoveMembers() | RetireGroup():
                return self._apply_to_group(change)
            case _:
                assert_never(change)
        return Applied(ref=change.ref)

    def _apply_to_group(
        self, change: CreateGroup | UpdateGroup | AddMembers | RemoveMembers | RetireGroup
    ) -> Applied:
        key = normalise_dn(change.ref)
        if isinstance(change, CreateGroup):
            if key in self.groups or key in self.accounts:
                raise AlreadyExistsError(f"{change.ref} exists")
            cn = unescape_dn_value(split_first_rdn(change.ref)[0][3:])
            attributes = dict(change.attributes) | {"cn": cn}
            self.groups[key] = Group(change.group_id, change.ref, attributes)
            return Applied(ref=change.ref)
        group = self.groups.get(key)
        if group is None or group.group_id != change.group_id:
            raise NotFoundError(f"{change.ref}: no group of hrsync's with id {change.group_id}")
        match change:
            case UpdateGroup():
                return self._update_group(group, change)
            case AddMembers():
                missing = [m for m in change.members if not self._exists(m)]
                if missing:
                    raise RejectedError(f"no such member: {missing}")
                members = {normalise_dn(m): m for m in (*group.members, *change.members)}
                self.groups[key] = dataclasses.replace(group, members=tuple(members.values()))
            case RemoveMembers():
                gone = {normalise_dn(m) for m in change.members}
                kept = tuple(m for m in group.members if normalise_dn(m) not in gone)
                self.groups[key] = dataclasses.replace(group, members=kept)
            case RetireGroup():
                del self.groups[key]
                self._repoint_members(change.ref, None)
        return Applied(ref=change.ref)

    def _update_group(self, group: Group, change: UpdateGroup) -> Applied:
        attributes = {k: v for k, v in (group.attributes | change.after).items() if k != HRSYNC_ID}
        if change.after.get(EMPTY_SINCE) is None:
            attributes.pop(EMPTY_SINCE, None)
        group_id = GroupId(change.after.get(HRSYNC_ID) or group.group_id)
        dn = group.ref
        if change.new_name is not None:
            dn = f"CN={escape_dn_value(change.new_name)},{parent_of(group.ref)}"
            attributes["cn"] = change.new_name
        del self.groups[normalise_dn(group.ref)]
        self.groups[normalise_dn(dn)] = Group(
            group_id, dn, {k: v for k, v in attributes.items() if v is not None}, group.members
        )
        self._repoint_members(group.ref, dn)
        return Applied(ref=dn)

    def _exists(self, dn: str) -> bool:
        return normalise_dn(dn) in self.accounts or normalise_dn(dn) in self.groups

    def _repoint_members(self, old_dn: str, new_dn: str | None) -> None:
        """AD keeps `member` pointing at a renamed or moved object, and drops a deleted one."""
        old = normalise_dn(old_dn)
        for key, group in self.groups.items():
            if any(normalise_dn(m) == old for m in group.members):
                members = [m for m in group.members if normalise_dn(m) != old]
                members += [new_dn] if new_dn else []
                self.groups[key] = dataclasses.replace(group, members=tuple(members))

    def _create(self, change: CreateAccount) -> Applied:
        key = normalise_dn(change.ref)
        if key in self.accounts:
            raise AlreadyExistsError(f"{change.ref} exists")
        if change.attributes.get("displayName") in self.reject_cns:
            raise RejectedError("constraint violation")
        manager = change.attributes.get("manager")
        if manager and normalise_dn(manager) not in self.accounts:
            raise RejectedError("manager does not exist")
        cn = unescape_dn_value(split_first_rdn(change.ref)[0][3:])
        attributes = dict(change.attributes) | {"cn": cn}
        account_id = AccountId(f"guid-{next(self._ids)}")
        container = parent_of(change.ref)
        self.accounts[key] = Account(
            account_id, change.ref, change.is_enabled, attributes, container=container
        )
        return Applied(ref=change.ref, account_id=account_id)

    def _key(self, dn: str) -> str:
        key = normalise_dn(dn)
        if key not in self.accounts:
            raise NotFoundError(f"{dn} not found")
        return key

    def _edit(self, dn: str, edit: object) -> None:
        key = self._key(dn)
        self.accounts[key] = edit(self.accounts[key])  # type: ignore[operator]

    def _relocate(self, dn: str, rdn: str, parent: str, cn: str | None = None) -> Applied:
        new_dn = f"{rdn},{parent}"
        if normalise_dn(new_dn) in self.accounts and normalise_dn(new_dn) != normalise_dn(dn):
            raise AlreadyExistsError(f"{new_dn} exists")  # AD: entryAlreadyExists
        account = self.accounts.pop(self._key(dn))
        attributes = dict(account.attributes)
        if cn is not None:
            attributes["cn"] = cn
        self.accounts[normalise_dn(new_dn)] = dataclasses.replace(
            account, ref=new_dn, attributes=attributes, container=parent
        )
        self._repoint_managers(dn, new_dn)
        self._repoint_members(dn, new_dn)
        return Applied(ref=new_dn)

    def _repoint_managers(self, old_dn: str, new_dn: str) -> None:
        """AD keeps linked attributes such as `manager` pointing at a renamed object."""
        for key, other in self.accounts.items():
            if normalise_dn(other.attributes.get("manager") or "") == normalise_dn(old_dn):
                self.accounts[key] = _with(other, {"manager": new_dn})


def _with(account: Account, values: dict[str, str | None]) -> Account:
    attributes = {k: v for k, v in (account.attributes | values).items() if v is not None}
    return dataclasses.replace(account, attributes=attributes)


def _rdn(dn: str) -> str:
    return dn[: len(dn) - len(parent_of(dn))].rstrip(",")
