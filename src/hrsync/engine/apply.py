"""Apply a plan through a target, one change at a time, collecting an outcome for each."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

from hrsync.domain.changes import (
    Change,
    CreateAccount,
    ManualStep,
)
from hrsync.domain.errors import TargetError, TransientError
from hrsync.domain.plan import Outcome, Status
from hrsync.engine.recheck import resulting_dn
from hrsync.mapping.names import normalise_dn
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
    outcomes: list[Outcome] = []
    failed_dns: set[str] = set()
    transient_streak = 0
    for index, change in enumerate(changes):
        reason = (skipped or {}).get(index)
        if reason is not None:
            outcome = Outcome(change, Status.SKIPPED, reason, dn=_dn_of(change))
        elif transient_streak >= GIVE_UP_AFTER_TRANSIENT:
            outcome = Outcome(change, Status.DEFERRED, "target unreachable; retried next run", True)
        else:
            outcome = _apply_one(_without_failed_manager(change, failed_dns), target)
        transient_streak = transient_streak + 1 if outcome.is_transient else 0
        missing = outcome.status is Status.SKIPPED or (
            outcome.status is Status.FAILED and isinstance(change, CreateAccount)
        )
        if missing and (dn := resulting_dn(change)) is not None:
            failed_dns.add(normalise_dn(dn))
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def _apply_one(change: Change, target: Target) -> Outcome:
    if isinstance(change, ManualStep):
        return Outcome(change, Status.DEFERRED, change.reason, dn=change.dn)
    try:
        applied = target.apply(change)
    except TransientError as error:
        return Outcome(change, Status.FAILED, str(error), is_transient=True, dn=_dn_of(change))
    except TargetError as error:
        return Outcome(change, Status.FAILED, str(error), dn=_dn_of(change))
    return Outcome(change, Status.APPLIED, account_id=applied.account_id, dn=applied.dn)


def _without_failed_manager(change: Change, failed_dns: set[str]) -> Change:
    """A report of a manager whose create failed is created without the manager (set next run)."""
    if not isinstance(change, CreateAccount):
        return change
    manager = change.attributes.get("manager")
    if manager is None or normalise_dn(manager) not in failed_dns:
        return change
    attributes = {k: v for k, v in change.attributes.items() if k != "manager"}
    return dataclasses.replace(change, attributes=attributes)


def _dn_of(change: Change) -> str | None:
    return change.dn
