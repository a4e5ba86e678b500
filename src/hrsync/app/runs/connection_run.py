"""Run a connection: read the target, plan, pass the safety gate, apply, record every outcome."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from django.utils import timezone

from hrsync.app import models
from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.policies import scope_of
from hrsync.app.connection_settings.steps import safety_of
from hrsync.app.jobs.leases import holding
from hrsync.app.logs import scoped_log_context
from hrsync.app.runs.groups import TargetRead, with_groups
from hrsync.app.runs.records import OutcomeRecorder, Progress, refresh_links
from hrsync.app.runs.reports import (
    failure_context,
    report_outcomes,
    report_run_failure,
    run_subject,
)
from hrsync.app.tickets.desk import EventSink
from hrsync.app.tickets.outcomes import RunContext
from hrsync.app.triggers import DefaultActions, Dispatcher
from hrsync.domain.account import Account
from hrsync.domain.errors import TargetError, TransientError
from hrsync.domain.ids import PersonId
from hrsync.domain.lineage import derivations_to_json
from hrsync.domain.person import person_from_fields
from hrsync.domain.plan import Outcome, Plan, Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.focus import focus_plan
from hrsync.engine.lifecycle_dates import local_day
from hrsync.engine.plan import plan_changes
from hrsync.engine.recheck import recheck_plan
from hrsync.engine.safety import Verdict, judge_plan

log = structlog.get_logger(__name__)
MAX_TRIGGER_DEPTH = 2
_DEPTH: ContextVar[int] = ContextVar("hrsync_run_depth", default=0)


@dataclass
class RunSummary:
    run_id: int
    plan: dict[str, int]
    applied: int = 0
    failed: int = 0
    deferred: int = 0
    unreachable: int = 0
    """Changes failed or deferred because the target could not be reached: worth a retry."""
    held: int = 0
    skipped: int = 0
    """Changes of an approved plan whose account moved on since it was held."""
    status: str = ""
    reasons: list[str] = field(default_factory=list)
    """Why the safety gate held the plan."""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run_connection(
    key: str,
    *,
    simulate: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    only: Collection[str] = (),
    started_by: str = "cli",
    holds_lease: bool = False,
    now: datetime | None = None,
    approved: Plan | None = None,
) -> RunSummary:
    """One run. `simulate` stops after the plan; `force` applies a plan the gate would hold;
    `only` limits it to these person ids ("provision now").
    `now` is the run's clock, the one place its day comes from (tests, "what if" simulations):
    the instant the run acts as of, or a naive wall-clock time in the connection's zone.
    `approved` is a held plan an operator approved: it is applied as it is, without planning
    again, and each change whose account moved on since is skipped with the reason.

    A run that applies holds the connection's lease, so it never overlaps another run of the
    connection: ConnectionBusyError (a TransientError) when one is running. A worker that took
    the lease itself says `holds_lease`."""
    options = Options(simulate, force, progress, set(only), now, approved)
    with nullcontext() if simulate or holds_lease else holding(key):
        return _run_connection(key, options, started_by)


@scoped_log_context
def _run_connection(key: str, options: Options, started_by: str) -> RunSummary:
    simulate, only = options.simulate, options.only
    connection = models.Connection.objects.select_related("source").get(key=key)
    run = models.Run.objects.create(
        connection=connection, is_simulation=simulate, started_by=started_by, focus=sorted(only)
    )
    structlog.contextvars.bind_contextvars(run_id=run.pk, connection=key)  # for what it calls
    bound = log.bind(run_id=run.pk, connection=key)
    depth = _DEPTH.set(_DEPTH.get() + 1)
    # Triggers may start runs, whose events may fire triggers: two levels, never a loop.
    events = (
        Dispatcher.load(DefaultActions(run_connection))
        if _DEPTH.get() <= MAX_TRIGGER_DEPTH and not simulate
        else None
    )
    try:
        summary = _run(connection, run, options, events)
    except (TargetError, wiring.MissingSecretError) as error:
        bound.warning("run failed", error=str(error))
        _finish(run, models.Run.Status.FAILED, error=str(error))
        profile = wiring.profile_of(connection.kind, connection.settings)
        context = RunContext(connection, run.pk, wiring.where_of(connection), profile)
        report_run_failure(context, str(error), only)
        if events is not None:
            events.fire(
                "run.failed",
                run_subject(connection, run, error=str(error)),
                context=failure_context(connection, run, str(error), only),
            )
        raise
    finally:
        if events is not None:
            events.flush()
        _DEPTH.reset(depth)
    bound.info("run finished", status=summary.status, plan=summary.plan)
    return summary


@dataclass(frozen=True)
class Options:
    simulate: bool
    force: bool
    progress: Progress | None
    only: set[str]
    now: datetime | None = None
    """None: the real time."""
    approved: Plan | None = None
    """An approved held plan to apply as it is, instead of planning."""


def _run(
    connection: models.Connection, run: models.Run, options: Options, events: EventSink | None
) -> RunSummary:
    binding = wiring.bind(connection)
    policy, target = binding.policy, binding.target
    rows = {row.person_id: row for row in models.Person.objects.filter(source=connection.source)}
    people = [person_from_fields(PersonId(pid), row.fields) for pid, row in rows.items()]
    try:
        accounts, reserved, notes = _read_target(target, simulate=options.simulate)
        links = refresh_links(connection, accounts, rows, policy.owner_attribute)
        if options.approved is not None:
            return _apply_approved(run, options, events, binding=binding, read=(accounts, rows))
        today = local_day(options.now or timezone.now(), ZoneInfo(connection.time_zone))
        if options.now is not None:
            notes.append(f"planned as of {today.isoformat()} ({connection.time_zone})")
        plan = plan_changes(
            people,
            accounts,
            links,
            policy,
            today,
            reserved_names=reserved,
            lifecycle=binding.lifecycle,
            scope=scope_of(connection.settings),
        )
        if options.only:
            # "Provision now": only these persons' changes (the scope has decided the rest).
            plan = focus_plan(plan, {PersonId(pid) for pid in options.only}, policy.profile)
        grouped = with_groups(
            plan,
            binding,
            people=people,
            read=TargetRead(accounts, links, reserved),
            today=today,
            only=options.only,
            simulate=options.simulate,
        )
        plan = grouped.plan
        verdict = judge_plan(
            plan,
            len(links),
            safety_of(connection.settings),
            managed_groups=grouped.managed_groups,
            disable_removes=binding.profile.capabilities.disable_removes,
        )
        summary = RunSummary(run.pk, plan.counts(), reasons=list(verdict.reasons), notes=notes)
        _note_plan(run, plan, summary)
        run.managed_groups = grouped.managed_groups
        recorder = OutcomeRecorder(run, plan, rows, options.progress)
        if options.simulate:
            summary.status = _finish(run, models.Run.Status.SIMULATED)
        elif verdict.is_held and not options.force:
            summary.held = len(plan.changes)
            summary.status = _finish(run, models.Run.Status.HELD, error=_held_message(verdict))
            if events is not None:
                events.fire(
                    "run.held",
                    run_subject(connection, run, reasons=verdict.reasons, counts=summary.plan),
                )
        else:
            outcomes = _apply(run, plan, target, recorder, summary)
            _report(run, events, accounts, binding, recorder=recorder, outcomes=outcomes)
    finally:
        target.close()
    return summary


def _note_plan(run: models.Run, plan: Plan, summary: RunSummary) -> None:
    """What the run keeps of its plan besides the changes: counts, the fingerprint an approval
    is bound to, and the rules the changes' lineage refers to."""
    run.plan_counts, run.fingerprint = summary.plan, plan.fingerprint()
    run.derivations = derivations_to_json(plan.derivations)


def _read_target(
    target: wiring.RunTarget, *, simulate: bool
) -> tuple[list[Account], list[tuple[str, str]], list[str]]:
    """The accounts and the unique names in use. A simulation may plan against an empty
    target when it cannot reach the real one (the demo without Samba); it says so."""
    try:
        if not simulate:
            target.prepare()
        return list(target.read_accounts()), list(target.read_reserved_names()), []
    except TransientError as error:
        if not simulate:
            raise
        return [], [], [f"the target could not be reached ({error}); planned as if empty"]


def _apply_approved(
    run: models.Run,
    options: Options,
    events: EventSink | None,
    *,
    binding: wiring.Binding,
    read: tuple[Sequence[Account], dict[str, models.Person]],
) -> RunSummary:
    """Apply an approved plan as it was held, without planning again or asking the gate: each
    change whose account moved on since is skipped with the reason (hrsync.engine.recheck)."""
    assert options.approved is not None
    plan, (accounts, rows) = options.approved, read
    policy = binding.policy
    stale = recheck_plan(plan, accounts, policy.owner_attribute, policy.profile)
    summary = RunSummary(run.pk, plan.counts())
    _note_plan(run, plan, summary)
    recorder = OutcomeRecorder(run, plan, rows, options.progress)
    outcomes = _apply(run, plan, binding.target, recorder, summary, skipped=stale)
    _report(run, events, accounts, binding, recorder=recorder, outcomes=outcomes)
    return summary


def _report(
    run: models.Run,
    events: EventSink | None,
    accounts: Sequence[Account],
    binding: wiring.Binding,
    *,
    recorder: OutcomeRecorder,
    outcomes: list[Outcome],
) -> None:
    """Every outcome onto the persons' tickets (the run's focus only); events for triggers."""
    connection = run.connection
    owner = binding.policy.owner_attribute
    by_owner = {a.attributes.get(owner) or "": a for a in accounts}
    report_outcomes(
        RunContext(connection, run.pk, binding.where, binding.profile),
        records=recorder.records,
        outcomes=outcomes,
        accounts=by_owner,
        focus=set(run.focus),
        events=events,
    )


def _apply(
    run: models.Run,
    plan: Plan,
    target: wiring.RunTarget,
    recorder: OutcomeRecorder,
    summary: RunSummary,
    *,
    skipped: Mapping[int, str] | None = None,
) -> list[Outcome]:
    outcomes = apply_changes(plan.changes, target, recorder.take, skipped)
    recorder.flush()
    _count(summary, outcomes)
    status = models.Run.Status.FAILED if summary.failed else models.Run.Status.SUCCEEDED
    run.applied, run.failed = summary.applied, summary.failed
    run.deferred = summary.deferred + summary.skipped
    summary.status = _finish(run, status)
    return outcomes


def _count(summary: RunSummary, outcomes: Iterable[Outcome]) -> None:
    for outcome in outcomes:
        summary.unreachable += outcome.is_transient
        match outcome.status:
            case Status.APPLIED:
                summary.applied += 1
            case Status.FAILED:
                summary.failed += 1
            case Status.DEFERRED:
                summary.deferred += 1
            case Status.SKIPPED:
                summary.skipped += 1


def _finish(run: models.Run, status: models.Run.Status, error: str = "") -> str:
    run.status, run.error, run.finished = status, error, timezone.now()
    run.save()
    return str(status)


def _held_message(verdict: Verdict) -> str:
    return "held by the safety gate: " + "; ".join(verdict.reasons)
