"""Apply a plan through a target, one change at a time, collecting an outcome for each.

Refs a plan gives accounts and groups it creates may be provisional: a target that hands out
ids only on create (SCIM, Graph) reports the real ref in `Applied.ref`. Later changes that name
the provisional ref (a report's manager, a group's members, a change to the new account itself)
are given the real one before they are applied. For AD the planned DN is the real ref.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import assert_never

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
from hrsync.domain.errors import TargetError, TransientError
from hrsync.domain.plan import Outcome, Status
from hrsync.engine.recheck import resulting_ref
from hrsync.ports import Target

OutcomeSink = Callable[[Outcome], None]
GIVE_UP_AFTER_TRANSIENT = 3
"""Consecutive transient failures after which the target is taken to be down for this run."""


def apply_changes(
    changes: Iterable[Change],
    target: Target,
    on_outcome: OutcomeSink | None = None,
    skipped: Mapping[int, str] | None = None,
) -> list[Outcome]:
    """Apply every change in order. A failure never stops the rest, except a target that is down:
    then the remaining changes are deferred to the next run, not dropped. `skipped`: changes not
    to apply, by index, with the reason (an approved plan's stale changes, hrsync.engine.recheck).
    A report whose manager's account was not created, or not moved or renamed where the plan
    expected it, is created without the manager (set on the next run)."""
    profile = target.profile
    key = profile.ref_key
    outcomes: list[Outcome] = []
    missing: set[str] = set()
    resolved: dict[str, str] = {}
    transient_streak = 0
    for index, original in enumerate(changes):
        change = _with_refs(original, resolved, key, profile.manager_attribute)
        reason = (skipped or {}).get(index)
        if reason is not None:
            outcome = Outcome(change, Status.SKIPPED, reason, ref=change.ref)
        elif transient_streak >= GIVE_UP_AFTER_TRANSIENT:
            outcome = Outcome(change, Status.DEFERRED, "target unreachable; retried next run", True)
        else:
            change = _without_missing_manager(change, missing, key, profile.manager_attribute)
            outcome = _apply_one(change, target)
        transient_streak = transient_streak + 1 if outcome.is_transient else 0
        planned = resulting_ref(original)
        is_gone = outcome.status is Status.SKIPPED or (
            outcome.status is Status.FAILED and isinstance(change, CreateAccount | CreateGroup)
        )
        if is_gone and planned:
            missing.add(key(planned))
        elif outcome.status is Status.APPLIED and planned and outcome.ref:
            _resolve(resolved, key, planned, outcome.ref)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def _resolve(resolved: dict[str, str], key: Callable[[str], str], planned: str, ref: str) -> None:
    """Remember the real ref of what the plan named `planned`, when they differ."""
    if key(ref) != key(planned):
        resolved[key(planned)] = ref


def _apply_one(change: Change, target: Target) -> Outcome:
    if isinstance(change, ManualStep):
        return Outcome(change, Status.DEFERRED, change.reason, ref=change.ref)
    try:
        applied = target.apply(change)
    except TransientError as error:
        return Outcome(change, Status.FAILED, str(error), is_transient=True, ref=change.ref)
    except TargetError as error:
        return Outcome(change, Status.FAILED, str(error), ref=change.ref)
    return Outcome(change, Status.APPLIED, account_id=applied.account_id, ref=applied.ref)


def _without_missing_manager(
    change: Change, missing: set[str], key: Callable[[str], str], manager_attribute: str
) -> Change:
    """A report of a manager whose create failed is created without the manager (set next run)."""
    if not isinstance(change, CreateAccount) or not missing:
        return change
    manager = change.attributes.get(manager_attribute)
    if manager is None or key(manager) not in missing:
        return change
    attributes = {k: v for k, v in change.attributes.items() if k != manager_attribute}
    return dataclasses.replace(change, attributes=attributes)


def _with_refs(
    change: Change, resolved: Mapping[str, str], key: Callable[[str], str], manager: str
) -> Change:
    """`change` naming the real refs of what this apply created in place of provisional ones."""
    if not resolved:
        return change

    def real(ref: str) -> str:
        return resolved.get(key(ref), ref)

    def real_or_none(ref: str | None) -> str | None:
        return None if ref is None else real(ref)

    match change:
        case CreateAccount():
            if (boss := change.attributes.get(manager)) is None or key(boss) not in resolved:
                return change
            return dataclasses.replace(change, attributes=change.attributes | {manager: real(boss)})
        case SetManager():
            return dataclasses.replace(
                change, ref=real(change.ref), after=real_or_none(change.after)
            )
        case AddMembers() | RemoveMembers():
            members = tuple(real(member) for member in change.members)
            return dataclasses.replace(change, ref=real(change.ref), members=members)
        case ManualStep():
            return dataclasses.replace(change, ref=real_or_none(change.ref))
        case (
            UpdateAttributes()
            | MoveAccount()
            | RenameAccount()
            | EnableAccount()
            | DisableAccount()
            | DeleteAccount()
            | CreateGroup()
            | UpdateGroup()
            | RetireGroup()
        ):
            return dataclasses.replace(change, ref=real(change.ref))
        case _:
            assert_never(change)
