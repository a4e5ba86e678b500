"""Narrow group changes to a run for a few persons ("provision now"), keeping them valid. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

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
from hrsync.engine.accounts_after import AccountsAfter
from hrsync.mapping.names import normalise_dn


def focus_group_changes(
    changes: Sequence[Change], person_ids: Set[PersonId], after: AccountsAfter
) -> tuple[Change, ...]:
    """For a run limited to `person_ids` ("provision now"): only their memberships, the groups
    they need created (and the nesting that hangs those under their parents), and the groups'
    renames (their members' DNs name the renamed groups); marks for empty groups and their
    retirement wait for a full run."""
    mine = {normalise_dn(after.dns[pid]) for pid in person_ids if pid in after.dns}
    adds = {normalise_dn(c.dn): c for c in changes if isinstance(c, AddMembers)}
    needed = _needed_creates(changes, mine, adds)
    kept: list[Change] = []
    for change in changes:
        match change:
            case UpdateGroup() if EMPTY_SINCE not in change.after or not change.after[EMPTY_SINCE]:
                kept.append(change)
            case CreateGroup() if normalise_dn(change.dn) in needed:
                kept.append(change)
            case AddMembers() | RemoveMembers():
                allowed = mine | needed if isinstance(change, AddMembers) else mine
                members = tuple(m for m in change.members if normalise_dn(m) in allowed)
                if members:
                    kept.append(_with_members(change, members))
            case _ if not isinstance(change, GroupChange):
                kept.append(change)
    return tuple(kept)


def _needed_creates(
    changes: Sequence[Change], mine: Set[str], adds: Mapping[str, AddMembers]
) -> set[str]:
    """Normalised DNs of the created groups the persons land in, and of their new ancestors."""
    created = {normalise_dn(c.dn) for c in changes if isinstance(c, CreateGroup)}
    needed = {dn for dn in created if dn in adds and _holds(adds[dn], mine)}
    while True:
        more = {dn for dn in created - needed if dn in adds and _holds(adds[dn], needed)}
        if not more:
            return needed
        needed |= more


def _holds(change: AddMembers, dns: Set[str]) -> bool:
    return any(normalise_dn(member) in dns for member in change.members)


def _with_members(
    change: AddMembers | RemoveMembers, members: tuple[str, ...]
) -> AddMembers | RemoveMembers:
    if isinstance(change, AddMembers):
        return AddMembers(change.group_id, change.dn, members, change.reason)
    return RemoveMembers(change.group_id, change.dn, members, change.reason)
