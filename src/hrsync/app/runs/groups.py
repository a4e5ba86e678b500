"""A run's group changes: read hrsync's groups when the connection keeps groups, plan them after
the account changes, and narrow them to the persons of a "provision now" run (docs/groups.md)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from hrsync.app.connection_settings.wiring import Binding
from hrsync.domain.account import Account
from hrsync.domain.changes import (
    CHANGE_KINDS,
    AddMembers,
    CreateGroup,
    RemoveMembers,
    RetireGroup,
    UpdateGroup,
)
from hrsync.domain.errors import TransientError
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.person import Person
from hrsync.domain.plan import Plan
from hrsync.domain.profile import TargetProfile
from hrsync.engine.accounts_after import accounts_after
from hrsync.engine.group_focus import focus_group_changes
from hrsync.engine.groups import NamesInUse, plan_groups

GROUP_KINDS = frozenset(
    CHANGE_KINDS[kind]
    for kind in (CreateGroup, UpdateGroup, AddMembers, RemoveMembers, RetireGroup)
)


@dataclass(frozen=True)
class TargetRead:
    """What the run read from the target before planning."""

    accounts: Sequence[Account]
    links: dict[PersonId, AccountId]
    reserved_names: Collection[tuple[str, str]]


@dataclass(frozen=True)
class GroupedPlan:
    """A run's plan with its group changes, and how many groups hrsync kept for the connection
    when it planned them: the safety gate judges group retirements out of that count."""

    plan: Plan
    managed_groups: int


def with_groups(
    plan: Plan,
    binding: Binding,
    *,
    people: Sequence[Person],
    read: TargetRead,
    today: date,
    only: Collection[str] = (),
    simulate: bool = False,
) -> GroupedPlan:
    """`plan` with the group changes after its account changes; `plan` itself, and no groups,
    when the connection keeps none. A simulation that cannot reach the target plans as if it
    held no groups, like the accounts it could not read."""
    policy, read_groups = binding.groups, binding.read_groups
    if policy is None or read_groups is None:
        return GroupedPlan(plan, 0)
    try:
        groups, other_names = read_groups()
    except TransientError:
        if not simulate:
            raise
        groups, other_names = [], frozenset()
    owner, profile = binding.policy.owner_attribute, binding.profile
    after = accounts_after(read.accounts, read.links, plan.changes, owner, profile)
    reserved = frozenset(value.casefold() for _, value in read.reserved_names)
    names = NamesInUse(other_names, reserved)
    changes = plan_groups(people, groups, after, policy, today=today, names=names)
    if only:
        changes = focus_group_changes(changes, {PersonId(pid) for pid in only}, after, profile)
    return GroupedPlan(Plan((*plan.changes, *changes), plan.derivations), len(groups))


def audit_kind(kind: str) -> str:
    """The audit event's object type for a change kind."""
    return "group" if kind in GROUP_KINDS else "account"


def audit_after(payload: dict[str, Any]) -> dict[str, Any]:
    """What an applied change leaves: new attributes or values; for members, the members."""
    after = payload.get("after") or payload.get("attributes")
    if isinstance(after, dict):
        return dict(after)
    members = payload.get("members")
    return {"members": list(members)} if isinstance(members, list | tuple) else {}


def diff_entry(payload: dict[str, Any], ref: str, profile: TargetProfile) -> tuple[str, str] | None:
    """(key, name) under which a plan's diff lists a group change: the group, by its id and
    name, since it belongs to no person; None for a person's change."""
    group_id = payload.get("group_id")
    if not group_id or payload.get("person_id"):
        return None
    return f"group:{group_id}", _group_name(payload, ref, profile)


def _group_name(payload: dict[str, Any], ref: str, profile: TargetProfile) -> str:
    """The name a ref spells out (AD: the CN); else the group's display name or its ref."""
    if profile.split_ref is not None:
        return profile.split_ref(ref)[0]
    attributes = _texts(payload.get("attributes"))
    return attributes.get("displayName") or ref


def diff_rows(
    kind: str, payload: dict[str, Any], profile: TargetProfile
) -> Iterator[tuple[str, str | None, str | None]]:
    """(attribute, old, new) rows of a group change, for the plan's diff."""
    before, after = _texts(payload.get("before")), _texts(payload.get("after"))
    match kind:
        case "create_group":
            if payload.get("scope"):
                yield "scope", None, str(payload.get("scope") or "")
            yield from ((k, None, v) for k, v in sorted(_texts(payload.get("attributes")).items()))
        case "update_group":
            if payload.get("new_name") and profile.split_ref is not None:
                old_name = profile.split_ref(str(payload.get("ref") or ""))[0]
                yield profile.naming_attribute or "name", old_name, str(payload["new_name"])
            yield from ((k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after)))
        case "add_members":
            yield from (("member", None, str(m)) for m in payload.get("members") or ())
        case "remove_members":
            yield from (("member", str(m), None) for m in payload.get("members") or ())


def _texts(value: Any) -> dict[str, str | None]:
    items = value.items() if isinstance(value, dict) else ()
    return {str(k): None if v is None else str(v) for k, v in items}
