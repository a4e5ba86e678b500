"""Plan the groups of organisation units: create, rename, fill, empty and retire them. Pure.

The units come from hrsync.engine.group_tree. Groups are correlated with the target's groups by
the id hrsync stored on them (a group without it is never touched); a group made while its unit
had no source id is adopted by that unit once it has one. Each person whose account will be
enabled is a member of the group of their lowest level; each group is a member of its parent's
group. A group whose unit is gone is marked empty, emptied of persons, and retired (deleted)
once it has been empty for the grace period; a unit that comes back in time clears the mark.

Group changes follow the account changes in a plan: new accounts exist, and renamed or moved
ones have their new refs, by the time memberships are added (hrsync.engine.accounts_after).

How a group is named, addressed and described is the target's (`GroupNaming`, e.g.
hrsync.connectors.active_directory.group_naming): AD names a group by its path in a CN unique in
the groups OU and renames it when the path changes; SCIM names it by its display name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from hrsync.domain.account import Attributes
from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateGroup,
    RemoveMembers,
    RetireGroup,
    UpdateGroup,
)
from hrsync.domain.groups import EMPTY_SINCE, HRSYNC_ID, Group
from hrsync.domain.ids import GroupId
from hrsync.domain.person import Person
from hrsync.domain.profile import TargetProfile
from hrsync.engine.accounts_after import AccountsAfter
from hrsync.engine.group_names import PathNames
from hrsync.engine.group_tree import GroupNode, group_tree

DEFAULT_GRACE_DAYS = 30


class GroupNaming(Protocol):
    """How one target names and addresses the groups hrsync makes."""

    @property
    def profile(self) -> TargetProfile: ...

    @property
    def path_names(self) -> PathNames | None:
        """How a group is named by its unit's path and renamed when the path changes (AD: the
        CN, 64 characters); None where the name is an attribute kept in step by updates."""
        ...

    @property
    def scope(self) -> str:
        """What a new group is made as (AD: "global" or "universal"); empty elsewhere."""
        ...

    @property
    def nests(self) -> bool:
        """Whether a unit's group is a member of its parent unit's group."""
        ...

    def ref_for(self, group_id: GroupId, name: str) -> str:
        """The ref of a new group (provisional where the target hands out ids on create)."""
        ...

    def renamed_ref(self, ref: str, name: str) -> str:
        """The ref of a group after it is renamed to `name` (`renames` targets)."""
        ...

    def attributes(self, node: GroupNode) -> Attributes:
        """The attributes a unit's group has and keeps: its names and description."""
        ...

    def new_attributes(self, node: GroupNode, taken: set[str]) -> Attributes:
        """Set once on create: unique names (AD: sAMAccountName, free in `taken`, which then
        holds it)."""
        ...


@dataclass(frozen=True, slots=True)
class GroupPolicy:
    """A connection's groups: the person's organisation levels to build them from (top first),
    how long an empty one is kept, and how the target names them."""

    levels: tuple[str, ...]
    naming: GroupNaming
    grace_days: int = DEFAULT_GRACE_DAYS


@dataclass(frozen=True, slots=True)
class NamesInUse:
    """Names new groups must avoid, case-folded: the names of other objects where the groups
    live (AD: CNs in the groups OU), and the unique names in use in the target (AD: the
    sAMAccountNames and UPNs of the domain)."""

    names: frozenset[str] = frozenset()
    logins: frozenset[str] = frozenset()


NO_NAMES = NamesInUse()


def plan_groups(
    people: Iterable[Person],
    groups: Iterable[Group],
    after: AccountsAfter,
    policy: GroupPolicy,
    *,
    today: date,
    names: NamesInUse = NO_NAMES,
) -> tuple[Change, ...]:
    """The group changes that make the target's groups match the units of the persons whose
    accounts will be enabled after the account plan (`after`), on `today`."""
    tree = group_tree([p for p in people if p.person_id in after.enabled], policy.levels)
    planner = _Planner(policy, today, after, _existing(groups), names)
    planner.correlate(tree)
    planner.name_and_diff(tree)
    planner.empty_the_gone()
    planner.diff_members(tree)
    return planner.ordered()


def _existing(groups: Iterable[Group]) -> dict[GroupId, Group]:
    """One group per id: should two carry the same id (a copy), the first by ref is used and
    the other left alone."""
    existing: dict[GroupId, Group] = {}
    for group in sorted(groups, key=lambda g: g.ref.casefold()):
        existing.setdefault(group.group_id, group)
    return existing


@dataclass(slots=True)
class _Planner:
    policy: GroupPolicy
    today: date
    after: AccountsAfter
    existing: Mapping[GroupId, Group]
    names: NamesInUse
    matched: dict[GroupId, Group] = field(default_factory=dict)
    """Unit id → the group that stands for it."""
    final_refs: dict[GroupId, str] = field(default_factory=dict)
    """Unit id → the ref of its group after the plan."""
    pending: set[str] = field(default_factory=set)
    """Ref keys of groups whose unit is gone: left nested where they are until retired."""
    gone: dict[str, GroupId] = field(default_factory=dict)
    """Ref key now → id, for every group that stands for no unit."""
    taken_names: set[str] = field(default_factory=set)
    taken_logins: set[str] = field(default_factory=set)
    updates: list[Change] = field(default_factory=list)
    creates: list[Change] = field(default_factory=list)
    adds: list[Change] = field(default_factory=list)
    removes: list[Change] = field(default_factory=list)
    retires: list[Change] = field(default_factory=list)

    def correlate(self, tree: Mapping[GroupId, GroupNode]) -> None:
        """By id; then a unit's name id finds a group made before the unit had a source id."""
        self.matched = {gid: self.existing[gid] for gid in tree if gid in self.existing}
        unclaimed = {gid: g for gid, g in self.existing.items() if gid not in tree}
        for node in _top_down(tree):
            if node.group_id not in self.matched and node.name_id in unclaimed:
                self.matched[node.group_id] = unclaimed.pop(node.name_id)
        self.taken_logins = (
            set(self.names.logins)
            | set(self.after.new_logins)
            | {
                value.casefold()
                for g in self.existing.values()
                for name in self.policy.naming.profile.unique_names
                if (value := g.attributes.get(name))
            }
        )
        # Renames come first in a plan, while every group still has its name: a rename takes
        # no name another group has now (two swapping names would collide either way round).
        self.taken_names = set(self.names.names) | {
            g.name.casefold() for g in self.existing.values()
        }

    def name_and_diff(self, tree: Mapping[GroupId, GroupNode]) -> None:
        ordered = _top_down(tree)
        for node in ordered:
            if (group := self.matched.get(node.group_id)) is not None:
                self._update(node, group)
        # Creates come after the renames: the names those gave up are free by then.
        if (path_names := self._path_names) is not None:
            for unit, group in self.matched.items():
                if not path_names.is_name_for(group.name, tree[unit]):
                    self.taken_names.discard(group.name.casefold())
        for node in ordered:
            if node.group_id not in self.matched:
                self._create(node)

    @property
    def _path_names(self) -> PathNames | None:
        return self.policy.naming.path_names

    def _key(self, ref: str) -> str:
        return self.policy.naming.profile.ref_key(ref)

    def _create(self, node: GroupNode) -> None:
        naming = self.policy.naming
        path_names = self._path_names
        name = path_names.choose(node, self.taken_names) if path_names else node.name
        ref = naming.ref_for(node.group_id, name)
        attributes: Attributes = dict(naming.new_attributes(node, self.taken_logins))
        attributes |= naming.attributes(node)
        reason = f"new organisation unit: {shown_path(node)}"
        self.creates.append(CreateGroup(node.group_id, ref, attributes, naming.scope, reason))
        self.final_refs[node.group_id] = ref

    def _update(self, node: GroupNode, group: Group) -> None:
        naming = self.policy.naming
        path_names = self._path_names
        keeps = path_names is None or path_names.is_name_for(group.name, node)
        new_name = (
            None if keeps or path_names is None else path_names.choose(node, self.taken_names)
        )
        before: Attributes = {}
        after: Attributes = {}
        for name, value in naming.attributes(node).items():
            if (group.attributes.get(name) or None) != value:
                before[name], after[name] = group.attributes.get(name), value
        reasons = ["the unit was renamed in HR"] if new_name or after else []
        if group.group_id != node.group_id or group.empty_since is not None:
            before |= {HRSYNC_ID: group.group_id, EMPTY_SINCE: group.attributes.get(EMPTY_SINCE)}
            after |= {HRSYNC_ID: node.group_id, EMPTY_SINCE: None}
            if group.group_id != node.group_id:
                reasons.append("the unit has an id in HR now")
            if group.empty_since is not None:
                reasons.append("the unit has people again")
        final = naming.renamed_ref(group.ref, new_name) if new_name else group.ref
        if new_name or after:
            change = UpdateGroup(
                group.group_id,
                group.ref,
                new_name,
                before,
                after,
                "; ".join(reasons),
                new_ref=final if new_name else "",
            )
            self.updates.append(change)
        self.final_refs[node.group_id] = final

    def empty_the_gone(self) -> None:
        """Mark groups whose unit is gone, retire those empty for the grace period."""
        claimed = {id(g) for g in self.matched.values()}
        grace = timedelta(days=self.policy.grace_days)
        for group in sorted(self.existing.values(), key=lambda g: g.ref.casefold()):
            if id(group) in claimed:
                continue
            key = self._key(group.ref)
            self.gone[key] = group.group_id
            since = group.empty_since
            if since is None and grace:
                self.updates.append(_mark_empty(group, self.today, self.policy.grace_days))
                self.pending.add(key)
            elif since is None or self.today >= since + grace:
                reason = f"empty since {(since or self.today).isoformat()}"
                reason += f", {self.policy.grace_days} days ago or more" if grace else ""
                self.retires.append(RetireGroup(group.group_id, group.ref, reason))
            else:
                self.pending.add(key)

    def diff_members(self, tree: Mapping[GroupId, GroupNode]) -> None:
        children: dict[GroupId, list[GroupId]] = {}
        for node in tree.values():
            if node.parent_id is not None:
                children.setdefault(node.parent_id, []).append(node.group_id)
        group_refs = {self._key(g.ref): gid for gid, g in self.matched.items()}
        for node in _top_down(tree):
            wanted = [self.after.refs[pid] for pid in node.members]
            if self.policy.naming.nests:
                wanted += [self.final_refs[child] for child in children.get(node.group_id, [])]
            group = self.matched.get(node.group_id)
            have = self._members_after(group, group_refs) if group else {}
            self._diff(node.group_id, self.final_refs[node.group_id], wanted, have)
        for group in self.existing.values():
            if self._key(group.ref) in self.pending:
                members = self._members_after(group, group_refs)
                self._diff(group.group_id, group.ref, [], members)

    def _members_after(self, group: Group, group_refs: Mapping[str, GroupId]) -> dict[str, str]:
        """The group's members hrsync manages, by ref key after the plan: persons' accounts
        and hrsync's groups. Other members (added by hand) are left alone, and so are deleted
        accounts and groups (the target drops them) and groups whose unit is gone."""
        members: dict[str, str] = {}
        for ref in group.members:
            key = self._key(ref)
            if key in self.after.renamed:
                final = self.after.renamed[key]
            elif key in group_refs:
                final = self.final_refs[group_refs[key]]
            else:
                continue
            if final is not None:
                members[self._key(final)] = final
        return members

    def _diff(
        self, group_id: GroupId, ref: str, wanted: Sequence[str], have: Mapping[str, str]
    ) -> None:
        want = {self._key(member): member for member in wanted}
        added = sorted(want[key] for key in want.keys() - have.keys())
        removed = sorted(have[key] for key in have.keys() - want.keys())
        if added:
            self.adds.append(AddMembers(group_id, ref, tuple(added), "in the unit in HR"))
        if removed:
            reason = "no longer in the unit in HR, or the account is disabled"
            self.removes.append(RemoveMembers(group_id, ref, tuple(removed), reason))

    def ordered(self) -> tuple[Change, ...]:
        """Renames first (a new group may take a name given up), then creates, then members
        (adds before removes: someone moving is never in no group), retirements last."""
        return (*self.updates, *self.creates, *self.adds, *self.removes, *self.retires)


def _top_down(tree: Mapping[GroupId, GroupNode]) -> list[GroupNode]:
    """Parents before children, siblings by name: a stable order, whatever the input order."""
    return sorted(tree.values(), key=lambda n: ([p.casefold() for p in n.path], n.group_id))


def shown_path(node: GroupNode) -> str:
    """The unit's path as people read it: "Stockholm > Finance > Payable"."""
    return " > ".join(node.path)


def _mark_empty(group: Group, today: date, grace_days: int) -> UpdateGroup:
    retire_on = (today + timedelta(days=grace_days)).isoformat()
    return UpdateGroup(
        group.group_id,
        group.ref,
        None,
        {HRSYNC_ID: group.group_id, EMPTY_SINCE: None},
        {HRSYNC_ID: group.group_id, EMPTY_SINCE: today.isoformat()},
        f"no one is left in the unit: retired on {retire_on} unless someone joins it",
    )
