"""Narrow group changes to a run for a few persons ("provision now"), keeping them valid. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set

from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateGroup,
    GroupChange,
    RemoveMembers,
    UpdateGroup,
)
from hrsync.domain.groups import EMPTY_SINCE
from hrsync.domain.ids import PersonId
from hrsync.domain.profile import TargetProfile
from hrsync.engine.accounts_after import AccountsAfter


def focus_group_changes(
    changes: Sequence[Change],
    person_ids: Set[PersonId],
    after: AccountsAfter,
    profile: TargetProfile,
) -> tuple[Change, ...]:
    """For a run limited to `person_ids` ("provision now"): only their memberships, the groups
    they need created (and the nesting that hangs those under their parents), and the groups'
    renames (their members' refs name the renamed groups); marks for empty groups and their
    retirement wait for a full run."""
    key = profile.ref_key
    mine = {key(after.refs[pid]) for pid in person_ids if pid in after.refs}
    adds = {key(c.ref): c for c in changes if isinstance(c, AddMembers)}
    needed = _needed_creates(changes, mine, adds, key)
    kept: list[Change] = []
    for change in changes:
        match change:
            case UpdateGroup() if EMPTY_SINCE not in change.after or not change.after[EMPTY_SINCE]:
                kept.append(change)
            case CreateGroup() if key(change.ref) in needed:
                kept.append(change)
            case AddMembers() | RemoveMembers():
                allowed = mine | needed if isinstance(change, AddMembers) else mine
                members = tuple(m for m in change.members if key(m) in allowed)
                if members:
                    kept.append(_with_members(change, members))
            case _ if not isinstance(change, GroupChange):
                kept.append(change)
    return tuple(kept)


def _needed_creates(
    changes: Sequence[Change],
    mine: Set[str],
    adds: Mapping[str, AddMembers],
    key: Callable[[str], str],
) -> set[str]:
    """Ref keys of the created groups the persons land in, and of their new ancestors."""
    created = {key(c.ref) for c in changes if isinstance(c, CreateGroup)}
    needed = {ref for ref in created if ref in adds and _holds(adds[ref], mine, key)}
    while True:
        more = {ref for ref in created - needed if ref in adds and _holds(adds[ref], needed, key)}
        if not more:
            return needed
        needed |= more


def _holds(change: AddMembers, keys: Set[str], key: Callable[[str], str]) -> bool:
    return any(key(member) in keys for member in change.members)


def _with_members(
    change: AddMembers | RemoveMembers, members: tuple[str, ...]
) -> AddMembers | RemoveMembers:
    if isinstance(change, AddMembers):
        return AddMembers(change.group_id, change.ref, members, change.reason)
    return RemoveMembers(change.group_id, change.ref, members, change.reason)
