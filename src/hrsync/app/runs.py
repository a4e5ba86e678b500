"""Run a connection: read the target, plan, pass the safety gate, apply, record every outcome."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from django.utils import timezone

from hrsync.app import models, wiring
from hrsync.app.connection_policies import directory_policy, lifecycle_of, scope_of
from hrsync.app.connection_steps import safety_of
from hrsync.app.leases import holding
from hrsync.app.run_groups import DirectoryRead, audit_after, audit_kind, with_groups
from hrsync.app.run_reports import report_outcomes, report_run_failure
from hrsync.app.ticket_outcomes import RunContext
from hrsync.app.tickets import EventSink, person_context
from hrsync.app.triggers import Dispatcher
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.domain.account import Account
from hrsync.domain.errors import TargetError, TransientError
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.person import person_from_fields
from hrsync.domain.plan import Outcome, Plan, Status, serialise_changes
from hrsync.engine.apply import apply_changes
from hrsync.engine.focus import focus_plan
from hrsync.engine.lifecycle_dates import local_day
from hrsync.engine.plan import plan_changes
from hrsync.engine.recheck import recheck_plan
from hrsync.engine.safety import Verdict, judge_plan

log = structlog.get_logger(__name__)
MAX_TRIGGER_DEPTH = 2
_DEPTH: ContextVar[int] = ContextVar("hrsync_run_depth", default=0)
BATCH = 500
DN_CHANGING_KINDS = frozenset({"create", "rename", "move"})
Progress = Callable[[int, int], None]
"""Called with (changes handled, changes planned)."""


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


def _run_connection(key: str, options: Options, started_by: str) -> RunSummary:
    simulate, only = options.simulate, options.only
    connection = models.Connection.objects.select_related("source").get(key=key)
    run = models.Run.objects.create(
        connection=connection, is_simulation=simulate, started_by=started_by, focus=sorted(only)
    )
    bound = log.bind(run_id=run.pk, connection=key)
    depth = _DEPTH.set(_DEPTH.get() + 1)
    # Triggers may start runs, whose events may fire triggers: two levels, never a loop.
    events = Dispatcher.load() if _DEPTH.get() <= MAX_TRIGGER_DEPTH and not simulate else None
    try:
        summary = _run(connection, run, options, events)
    except (TargetError, wiring.MissingSecretError) as error:
        bound.warning("run failed", error=str(error))
        _finish(run, models.Run.Status.FAILED, error=str(error))
        base_dn = str(connection.settings.get("base_dn", ""))
        report_run_failure(RunContext(connection, run.pk, base_dn), str(error), only)
        if events is not None:
            events.fire(
                "run.failed",
                _run_subject(connection, run, error=str(error)),
                context=_failure_context(connection, run, str(error), only),
            )
        raise
    finally:
        if events is not None:
            events.flush()
        _DEPTH.reset(depth)
    bound.info("run finished", status=summary.status, plan=summary.plan)
    return summary


def _failure_context(
    connection: models.Connection, run: models.Run, error: str, only: Collection[str]
) -> dict[str, Any]:
    """What a notification about a failed run can say: the error, a hint, and who was waiting."""
    hint = (
        "check that the directory is reachable and the connection's settings; hrsync tries "
        "again on the next run"
    )
    people = list(models.Person.objects.filter(source=connection.source, person_id__in=only)[:6])
    context: dict[str, Any] = {
        "connection": {"key": connection.key, "type": connection.kind},
        "outcome": {"status": "failed", "error": error, "hint": hint},
        "run": {"id": run.pk},
    }
    if len(people) == 1:
        context["person"] = person_context(people[0])
        ticket = people[0].tickets.filter(status__in=models.Ticket.OPEN_STATUSES).first()
        context["ticket"] = {"id": ticket.pk, "title": ticket.title} if ticket else {}
    elif people:
        names = ", ".join(p.display_name for p in people[:5])
        context["person"] = {"name": names + (" and others" if len(people) > 5 else "")}
    return context


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


def _run_subject(
    connection: models.Connection,
    run: models.Run,
    *,
    error: str = "",
    reasons: Sequence[str] = (),
    counts: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    counts = counts or {}
    return {
        "connection": connection.key,
        "connection_type": connection.kind,
        "run_id": run.pk,
        "error": error,
        "reasons": list(reasons),
        **{kind: counts.get(kind, 0) for kind in ("create", "update", "disable", "delete", "move")},
    }


def _run(
    connection: models.Connection, run: models.Run, options: Options, events: EventSink | None
) -> RunSummary:
    config = wiring.target_config(connection)
    policy = directory_policy(connection, config)
    rows = {row.person_id: row for row in models.Person.objects.filter(source=connection.source)}
    people = [person_from_fields(PersonId(pid), row.fields) for pid, row in rows.items()]
    target = wiring.build_target(connection)
    try:
        accounts, reserved, notes = _read_directory(target, simulate=options.simulate)
        links = _refresh_links(connection, accounts, rows, config.person_id_attribute)
        if options.approved is not None:
            return _apply_approved(run, options, events, target=target, read=(accounts, rows))
        today = local_day(options.now or timezone.now(), ZoneInfo(connection.time_zone))
        if options.now is not None:
            notes.append(f"planned as of {today.isoformat()} ({connection.time_zone})")
        lifecycle = lifecycle_of(connection.settings, config.leavers_ou_dn)
        plan = plan_changes(
            people,
            accounts,
            links,
            policy,
            today,
            reserved_names=reserved,
            lifecycle=lifecycle,
            scope=scope_of(connection.settings),
        )
        if options.only:
            # "Provision now": only these persons' changes (the scope has decided the rest).
            plan = focus_plan(plan, {PersonId(pid) for pid in options.only})
        grouped = with_groups(
            plan,
            connection.settings,
            target=target,
            people=people,
            read=DirectoryRead(accounts, links, reserved),
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
        )
        summary = RunSummary(run.pk, plan.counts(), reasons=list(verdict.reasons), notes=notes)
        run.plan_counts, run.fingerprint = summary.plan, plan.fingerprint()
        recorder = _OutcomeRecorder(run, plan, rows, options.progress)
        if options.simulate:
            summary.status = _finish(run, models.Run.Status.SIMULATED)
        elif verdict.is_held and not options.force:
            summary.held = len(plan.changes)
            summary.status = _finish(run, models.Run.Status.HELD, error=_held_message(verdict))
            if events is not None:
                events.fire(
                    "run.held",
                    _run_subject(connection, run, reasons=verdict.reasons, counts=summary.plan),
                )
        else:
            outcomes = _apply(run, plan, target, recorder, summary)
            _report(run, events, accounts, recorder=recorder, outcomes=outcomes)
    finally:
        target.close()
    return summary


def _read_directory(
    target: ActiveDirectoryTarget, *, simulate: bool
) -> tuple[list[Account], list[str], list[str]]:
    """The accounts and the login names in use. A simulation may plan against an empty
    directory when it cannot reach the real one (the demo without Samba); it says so."""
    try:
        if not simulate:
            target.ensure_users_ou()
        return list(target.read_accounts()), list(target.read_login_names()), []
    except TransientError as error:
        if not simulate:
            raise
        return [], [], [f"the directory could not be reached ({error}); planned as if empty"]


def _apply_approved(
    run: models.Run,
    options: Options,
    events: EventSink | None,
    *,
    target: ActiveDirectoryTarget,
    read: tuple[Sequence[Account], dict[str, models.Person]],
) -> RunSummary:
    """Apply an approved plan as it was held, without planning again or asking the gate: each
    change whose account moved on since is skipped with the reason (hrsync.engine.recheck)."""
    assert options.approved is not None
    plan, (accounts, rows) = options.approved, read
    id_attribute = wiring.target_config(run.connection).person_id_attribute
    stale = recheck_plan(plan, accounts, id_attribute)
    summary = RunSummary(run.pk, plan.counts())
    run.plan_counts, run.fingerprint = summary.plan, plan.fingerprint()
    recorder = _OutcomeRecorder(run, plan, rows, options.progress)
    outcomes = _apply(run, plan, target, recorder, summary, skipped=stale)
    _report(run, events, accounts, recorder=recorder, outcomes=outcomes)
    return summary


def _report(
    run: models.Run,
    events: EventSink | None,
    accounts: Sequence[Account],
    *,
    recorder: _OutcomeRecorder,
    outcomes: list[Outcome],
) -> None:
    """Every outcome onto the persons' tickets (the run's focus only); events for triggers."""
    connection = run.connection
    config = wiring.target_config(connection)
    by_owner = {a.attributes.get(config.person_id_attribute) or "": a for a in accounts}
    report_outcomes(
        RunContext(connection, run.pk, config.base_dn),
        records=recorder.records,
        outcomes=outcomes,
        accounts=by_owner,
        focus=set(run.focus),
        events=events,
    )


def _apply(
    run: models.Run,
    plan: Plan,
    target: ActiveDirectoryTarget,
    recorder: _OutcomeRecorder,
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


def _refresh_links(
    connection: models.Connection,
    accounts: Sequence[Account],
    rows: dict[str, models.Person],
    id_attribute: str,
) -> dict[PersonId, AccountId]:
    """Link every account carrying a known person id; write only links that changed."""
    stored = {link.person_id: link for link in models.Link.objects.filter(connection=connection)}
    changed: list[models.Link] = []
    for account in accounts:
        row = rows.get(account.attributes.get(id_attribute) or "")
        if row is None:
            continue
        link = stored.get(row.pk)
        if link is None or (link.account_id, link.dn) != (account.account_id, account.dn):
            link = models.Link(
                connection=connection, person=row, account_id=account.account_id, dn=account.dn
            )
            stored[row.pk] = link
            changed.append(link)
    _upsert_links(changed)
    by_pk = {row.pk: pid for pid, row in rows.items()}
    return {
        PersonId(by_pk[pk]): AccountId(link.account_id)
        for pk, link in stored.items()
        if link.account_id and pk in by_pk
    }


def _upsert_links(links: list[models.Link], fields: Sequence[str] = ("account_id", "dn")) -> None:
    models.Link.objects.bulk_create(
        links,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["connection", "person"],
        update_fields=[*fields, "updated"],
    )


class _OutcomeRecorder:
    """Stores the planned changes, then their outcomes in batches, and links new accounts."""

    def __init__(
        self, run: models.Run, plan: Plan, rows: dict[str, models.Person], progress: Progress | None
    ) -> None:
        self.run, self.progress, self.rows, self.total = run, progress, rows, len(plan.changes)
        records = [
            models.RunChange(
                run=run,
                person=rows.get(str(item.get("person_id", ""))),
                kind=str(item["kind"]),
                dn=str(item.get("dn") or ""),
                payload=item,
            )
            for item in serialise_changes(plan.changes)
        ]
        self.records = models.RunChange.objects.bulk_create(records, batch_size=BATCH)
        self.pending: list[tuple[models.RunChange, Outcome]] = []
        self.done = 0

    def take(self, outcome: Outcome) -> None:
        self.pending.append((self.records[self.done], outcome))
        self.done += 1
        if len(self.pending) >= BATCH:
            self.flush()
        if self.progress is not None:
            self.progress(self.done, self.total)

    def flush(self) -> None:
        for record, outcome in self.pending:
            record.status, record.error = outcome.status, outcome.error or ""
        models.RunChange.objects.bulk_update([r for r, _ in self.pending], ["status", "error"])
        links = [
            models.Link(
                connection=self.run.connection,
                person=record.person,
                account_id=outcome.account_id or "",
                dn=outcome.dn or "",
            )
            for record, outcome in self.pending
            if outcome.status is Status.APPLIED
            and record.person is not None
            and record.kind in DN_CHANGING_KINDS
        ]
        models.AuditEvent.objects.bulk_create(
            [
                _audit_event(self.run, record, outcome)
                for record, outcome in self.pending
                if outcome.status is Status.APPLIED
            ]
        )
        # The new DN is known now; the objectGUID of a new account is linked on the next read.
        _upsert_links(links, fields=["dn"])
        self.pending = []


def _audit_event(run: models.Run, record: models.RunChange, outcome: Outcome) -> models.AuditEvent:
    """One audit event per applied change: what the target looked like before and after."""
    payload = record.payload
    return models.AuditEvent(
        actor=run.started_by,
        action=f"change.{record.kind}",
        object_type=audit_kind(record.kind),
        object_key=outcome.dn or record.dn,
        connection_key=run.connection.key,
        person_id=record.person.person_id if record.person else "",
        before=_jsonable(payload.get("before")),
        after=audit_after(payload),
    )


def _jsonable(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
