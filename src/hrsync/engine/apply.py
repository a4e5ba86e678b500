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
from hrsync.ports import Applied, BatchTarget, Target

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
    expected it, is created without the manager (set on the next run).

    A target with the batch capability (hrsync.ports.BatchTarget) gets runs of consecutive
    creates in one request each; a create that names the manager created in the same run of
    creates starts the next batch, so it gets the manager's real ref. Outcomes are the same as
    one change at a time, in the plan's order."""
    applier = _Applier(target, skipped or {}, on_outcome)
    pending = list(enumerate(changes))
    position = 0
    while position < len(pending):
        batch = applier.batch_from(pending, position)
        if batch:
            applier.apply_batch(batch)
            position += len(batch)
        else:
            applier.apply_one(*pending[position])
            position += 1
    return applier.outcomes


class _Applier:
    def __init__(
        self, target: Target, skipped: Mapping[int, str], on_outcome: OutcomeSink | None
    ) -> None:
        self.target = target
        self.skipped = skipped
        self.on_outcome = on_outcome
        self.profile = target.profile
        self.key = self.profile.ref_key
        self.manager = self.profile.manager_attribute
        self.outcomes: list[Outcome] = []
        self.missing: set[str] = set()
        self.resolved: dict[str, str] = {}
        self.transient_streak = 0
        size = target.batch_size() if isinstance(target, BatchTarget) else 0
        self.batch_size = size if self.profile.capabilities.batch else 0

    def apply_one(self, index: int, original: Change) -> None:
        change = _with_refs(original, self.resolved, self.key, self.manager)
        reason = self.skipped.get(index)
        if reason is not None:
            outcome = Outcome(change, Status.SKIPPED, reason, ref=change.ref)
        elif self._is_down:
            outcome = _deferred(change)
        else:
            change = _without_missing_manager(change, self.missing, self.key, self.manager)
            outcome = _apply_one(change, self.target)
        self._record(original, outcome)

    def batch_from(self, pending: list[tuple[int, Change]], start: int) -> list[CreateAccount]:
        """The creates from `start` on that go in one batch (none: apply one by one)."""
        if self.batch_size < 2 or self._is_down:
            return []
        batch: list[CreateAccount] = []
        planned: set[str] = set()
        for index, original in pending[start : start + self.batch_size]:
            if not isinstance(original, CreateAccount) or index in self.skipped:
                break
            boss = original.attributes.get(self.manager)
            if boss is not None and self.key(boss) in planned:
                break
            batch.append(original)
            planned.add(self.key(original.ref))
        return batch if len(batch) > 1 else []

    def apply_batch(self, originals: list[CreateAccount]) -> None:
        assert isinstance(self.target, BatchTarget)
        changes = [self._prepared(create) for create in originals]
        try:
            results = self.target.apply_batch(changes)
        except TargetError as error:
            results = [error] * len(changes)
        for original, change, result in zip(originals, changes, results, strict=True):
            self._record(original, _outcome_of(change, result))

    def _prepared(self, create: CreateAccount) -> CreateAccount:
        """The create with real refs, and without a manager whose create failed."""
        change = _with_refs(create, self.resolved, self.key, self.manager)
        change = _without_missing_manager(change, self.missing, self.key, self.manager)
        assert isinstance(change, CreateAccount)
        return change

    @property
    def _is_down(self) -> bool:
        return self.transient_streak >= GIVE_UP_AFTER_TRANSIENT

    def _record(self, original: Change, outcome: Outcome) -> None:
        self.transient_streak = self.transient_streak + 1 if outcome.is_transient else 0
        change = outcome.change
        planned = resulting_ref(original)
        is_gone = outcome.status is Status.SKIPPED or (
            outcome.status is Status.FAILED and isinstance(change, CreateAccount | CreateGroup)
        )
        if is_gone and planned:
            self.missing.add(self.key(planned))
        elif outcome.status is Status.APPLIED and planned and outcome.ref:
            _resolve(self.resolved, self.key, planned, outcome.ref)
        self.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)


def _deferred(change: Change) -> Outcome:
    return Outcome(change, Status.DEFERRED, "target unreachable; retried next run", True)


def _resolve(resolved: dict[str, str], key: Callable[[str], str], planned: str, ref: str) -> None:
    """Remember the real ref of what the plan named `planned`, when they differ."""
    if key(ref) != key(planned):
        resolved[key(planned)] = ref


def _apply_one(change: Change, target: Target) -> Outcome:
    if isinstance(change, ManualStep):
        return Outcome(change, Status.DEFERRED, change.reason, ref=change.ref)
    try:
        applied: Applied | TargetError = target.apply(change)
    except TargetError as error:
        applied = error
    return _outcome_of(change, applied)


def _outcome_of(change: Change, result: Applied | TargetError) -> Outcome:
    if isinstance(result, TransientError):
        return Outcome(change, Status.FAILED, str(result), is_transient=True, ref=change.ref)
    if isinstance(result, TargetError):
        return Outcome(change, Status.FAILED, str(result), ref=change.ref)
    return Outcome(change, Status.APPLIED, account_id=result.account_id, ref=result.ref)


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
