"""Narrow a plan to a few persons ("provision now"), keeping it valid on its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Set

from hrsync.domain.changes import Change, CreateAccount, GroupChange, ManualStep
from hrsync.domain.ids import PersonId
from hrsync.domain.plan import Plan
from hrsync.engine.plan import MANAGER_UNRESOLVED
from hrsync.mapping.names import normalise_dn


def focus_plan(plan: Plan, person_ids: Set[PersonId]) -> Plan:
    """Only the changes of `person_ids`.

    A kept create may name a manager whose own create was left out: that manager will not exist
    after this plan, so the create goes without a manager and a manual step says who it is. The
    next full run sets the manager once they have an account. Group changes belong to no
    person and are left out: hrsync.engine.groups.focus_group_changes narrows those.
    """
    dropped = {
        normalise_dn(change.dn): change
        for change in plan.changes
        if isinstance(change, CreateAccount) and change.person_id not in person_ids
    }
    kept: list[Change] = []
    for change in plan.changes:
        if isinstance(change, GroupChange) or change.person_id not in person_ids:
            continue
        kept.extend(_without_dropped_manager(change, dropped))
    return Plan(tuple(kept), plan.derivations)


def _without_dropped_manager(change: Change, dropped: dict[str, CreateAccount]) -> list[Change]:
    if not isinstance(change, CreateAccount):
        return [change]
    manager = dropped.get(normalise_dn(change.attributes.get("manager") or ""))
    if manager is None:
        return [change]
    attributes = {k: v for k, v in change.attributes.items() if k != "manager"}
    return [
        dataclasses.replace(change, attributes=attributes),
        ManualStep(
            change.person_id,
            change.dn,
            MANAGER_UNRESOLVED,
            {
                "manager_id": manager.person_id,
                "manager_name": manager.attributes.get("displayName") or "",
                "manager_employee_number": manager.employee_number,
            },
        ),
    ]
