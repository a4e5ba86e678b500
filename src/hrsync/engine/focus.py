"""Narrow a plan to a few persons ("provision now"), keeping it valid on its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Set

from hrsync.domain.changes import Change, CreateAccount, GroupChange, ManualStep
from hrsync.domain.ids import PersonId
from hrsync.domain.plan import Plan
from hrsync.domain.profile import TargetProfile
from hrsync.engine.plan import MANAGER_UNRESOLVED


def focus_plan(plan: Plan, person_ids: Set[PersonId], profile: TargetProfile) -> Plan:
    """Only the changes of `person_ids`.

    A kept create may name a manager whose own create was left out: that manager will not exist
    after this plan, so the create goes without a manager and a manual step says who it is. The
    next full run sets the manager once they have an account. Group changes belong to no
    person and are left out: hrsync.engine.groups.focus_group_changes narrows those.
    """
    dropped = {
        profile.ref_key(change.ref): change
        for change in plan.changes
        if isinstance(change, CreateAccount) and change.person_id not in person_ids
    }
    kept: list[Change] = []
    for change in plan.changes:
        if isinstance(change, GroupChange) or change.person_id not in person_ids:
            continue
        kept.extend(_without_dropped_manager(change, dropped, profile))
    return Plan(tuple(kept), plan.derivations)


def _without_dropped_manager(
    change: Change, dropped: dict[str, CreateAccount], profile: TargetProfile
) -> list[Change]:
    if not isinstance(change, CreateAccount):
        return [change]
    attribute = profile.manager_attribute
    manager = dropped.get(profile.ref_key(change.attributes.get(attribute) or ""))
    if manager is None:
        return [change]
    attributes = {k: v for k, v in change.attributes.items() if k != attribute}
    return [
        dataclasses.replace(change, attributes=attributes),
        ManualStep(
            change.person_id,
            change.ref,
            MANAGER_UNRESOLVED,
            {
                "manager_id": manager.person_id,
                "manager_name": manager.attributes.get("displayName") or "",
                "manager_employee_number": manager.employee_number,
            },
        ),
    ]
