"""The group hierarchy synthesised from ordered organisation levels (Office → Department → Team).

Each group stands for one organisation unit and is identified by its whole path, so "Finance"
under Stockholm and "Finance" under Göteborg are two groups. The id is a digest of the path of
the units' *source ids* where the source gives them (Flex HRM: the accounts' ids), else of their
normalised names: a department renamed in HR keeps its id, so its group is renamed, not replaced.
A person belongs to the unit of their lowest level; the path stops at the first empty level
(values below a gap have no parent to hang under). Pure.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hrsync.domain.ids import GroupId, PersonId
from hrsync.domain.person import Person

ID_LENGTH = 32
"""Hex digits of the SHA-256 kept: 128 bits, far from any collision, short enough to read."""


@dataclass(frozen=True, slots=True)
class GroupNode:
    """One organisation unit: its id, where it hangs, its names, and who is in it directly."""

    group_id: GroupId
    parent_id: GroupId | None
    level: str
    path: tuple[str, ...]
    """Display names from the top level down to this unit."""
    name_id: GroupId
    """The id this unit would have from its names alone: how a group made before the source
    gave ids is found again (hrsync.engine.groups adopts it)."""
    members: frozenset[PersonId]
    """Persons whose lowest level is this unit (not those of units below it)."""

    @property
    def name(self) -> str:
        return self.path[-1]


GroupTree = Mapping[GroupId, GroupNode]


@functools.lru_cache(maxsize=1 << 16)
def group_id_of(segments: tuple[str, ...]) -> GroupId:
    """The id of a path of segments ("id:<source id>" or "name:<normalised name>"), top first.
    Cached: every person of a unit asks for the same path."""
    digest = hashlib.sha256("\x1f".join(segments).encode()).hexdigest()
    return GroupId(digest[:ID_LENGTH])


def normalised_name(value: str | None) -> str:
    """A unit's name as shown: inner runs of whitespace made one space, ends stripped."""
    return " ".join((value or "").split())


def name_segment(name: str) -> str:
    """A path segment from a name: case and spacing do not make another unit."""
    return "name:" + normalised_name(name).casefold()


@dataclass(frozen=True, slots=True)
class _Trail:
    """How far one person's path has got while the levels are walked."""

    segments: tuple[str, ...] = ()
    group_id: GroupId | None = None


def group_tree(people: Iterable[Person], levels: Sequence[str]) -> dict[GroupId, GroupNode]:
    """Every unit some person is in (directly or below), keyed by id. The same people in any
    order give the same tree."""
    by_id = {person.person_id: person for person in people}
    trails = {pid: _Trail() for pid in by_id}
    lowest: dict[PersonId, GroupId] = {}
    names: dict[GroupId, Counter[str]] = defaultdict(Counter)
    parents: dict[GroupId, GroupId | None] = {}
    level_of: dict[GroupId, str] = {}
    for level in levels:
        going_on: dict[PersonId, _Trail] = {}
        for pid, (segment, name) in _walk_level(level, by_id, trails).items():
            trail = trails[pid]
            node = group_id_of((*trail.segments, segment))
            parents.setdefault(node, trail.group_id)
            level_of.setdefault(node, level)
            names[node][name] += 1
            going_on[pid] = _Trail((*trail.segments, segment), node)
            lowest[pid] = node
        trails = going_on  # a person without a value here stops: a gap ends the path
    return _nodes(lowest, names, parents, level_of)


def _walk_level(
    level: str, people: Mapping[PersonId, Person], trails: Mapping[PersonId, _Trail]
) -> dict[PersonId, tuple[str, str]]:
    """(segment, display name) at `level` for each person with a value there."""
    named = {
        pid: (name, people[pid])
        for pid in trails
        if (name := normalised_name(people[pid].organisation_value(level)))
    }
    # Source ids per (parent, name): a person the source gave no id joins the unit of that
    # name under that parent when exactly one id goes by it (a store half filled with ids).
    ids_by_name: dict[tuple[GroupId | None, str], set[str]] = defaultdict(set)
    for pid, (name, person) in named.items():
        if source_id := _source_id(person, level):
            ids_by_name[(trails[pid].group_id, name.casefold())].add(source_id)
    placed: dict[PersonId, tuple[str, str]] = {}
    for pid, (name, person) in named.items():
        source_id = _source_id(person, level)
        known = ids_by_name.get((trails[pid].group_id, name.casefold()), set())
        if not source_id and len(known) == 1:
            source_id = next(iter(known))
        placed[pid] = (f"id:{source_id}" if source_id else name_segment(name), name)
    return placed


def _source_id(person: Person, level: str) -> str:
    return (person.organisation_id(level) or "").strip()


def _nodes(
    lowest: Mapping[PersonId, GroupId],
    names: Mapping[GroupId, Counter[str]],
    parents: Mapping[GroupId, GroupId | None],
    level_of: Mapping[GroupId, str],
) -> dict[GroupId, GroupNode]:
    members: dict[GroupId, set[PersonId]] = defaultdict(set)
    for pid, node in lowest.items():
        members[node].add(pid)
    paths: dict[GroupId, tuple[str, ...]] = {}
    nodes: dict[GroupId, GroupNode] = {}
    # Parents were met on an earlier level, so they come first in `parents`' insertion order.
    for node, parent in parents.items():
        path = (*(paths[parent] if parent else ()), _most_used(names[node]))
        paths[node] = path
        nodes[node] = GroupNode(
            group_id=node,
            parent_id=parent,
            level=level_of[node],
            path=path,
            name_id=group_id_of(tuple(name_segment(name) for name in path)),
            members=frozenset(members.get(node, ())),
        )
    return nodes


def _most_used(counts: Counter[str]) -> str:
    """The name most persons give the unit (a rename half imported, a different case);
    ties go to the first in sort order, so the order people arrive in does not matter."""
    return min(counts, key=lambda name: (-counts[name], name))


def lowest_groups(tree: GroupTree) -> dict[PersonId, GroupId]:
    """Each person's own unit: the lowest level they have a value at."""
    return {pid: node.group_id for node in tree.values() for pid in node.members}
