"""A connection's lifecycle: configure it step by step, simulate, activate on a schedule,
deactivate, delete, and decide held runs. The console and the REST API both go through here.

States: draft → simulation (steps 1 to 4 done) → active (step 6: a schedule, after a simulation)
⇄ deactivated. Saving a step sets `step` to the one after it, so editing an earlier step resets
the progress: the later steps must be walked again, and a connection in simulation or active
goes back to draft (or to simulation when only step 4 was edited).

Errors (both ValueErrors):
- LifecycleError: the action does not fit the connection's state (the API answers 409);
- InvalidValuesError (hrsync.app.connection_settings.steps): values that do not validate, with an
  error per field (the API answers 422). A bad schedule is one too, on the field "schedule".
Every mutation writes one audit event with before and after; secrets never appear in them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from hrsync.app import models
from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.steps import (
    DONE,
    SCHEDULE,
    SIMULATE,
    InvalidValuesError,
    apply_step,
    has_password,
    source_named,
    stored_password,
    validate_source_step,
    validate_target_step,
)
from hrsync.app.jobs.leases import ConnectionBusyError
from hrsync.app.jobs.schedules import OnChange, ScheduleError, format_schedule, next_run_times
from hrsync.app.jobs.schedules import parse_schedule as _parse_schedule
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.runs.plan_diff import PersonDiff, PlanDiff, export_plan, plan_diff, stored_plan
from hrsync.app.security import audit
from hrsync.connectors.scim.compliance import ComplianceReport
from hrsync.domain.errors import TargetError
from hrsync.domain.plan import Plan, Status

__all__ = [
    "CheckResult",
    "InvalidValuesError",
    "LifecycleError",
    "PersonDiff",
    "PlanDiff",
    "RunError",
    "activate",
    "approve_run",
    "check_target",
    "create_connection",
    "deactivate",
    "delete_connection",
    "export_plan",
    "plan_diff",
    "reject_run",
    "save_step",
    "simulate",
]

State = models.Connection.State
RUNNABLE = (State.SIMULATION, State.ACTIVE)
APPROVABLE = (State.DRAFT, *RUNNABLE)
"""An approval follows the run it approves: a draft connection's run applied from the command
line (`hrsync run`, as the README shows) and held by the gate can be approved too; only a
deactivated connection's held runs cannot (activate it first, or reject them)."""
KEY = re.compile(r"[-a-zA-Z0-9_]{1,64}")
"""A slug: the key appears in URLs, the API, triggers and the audit log."""


class LifecycleError(ValueError):
    """The action does not fit the connection's (or run's) state; the message says what to do."""


class RunError(Exception):
    """A run could not start or reach its target; the run record holds the error."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    is_ok: bool
    message: str


def create_connection(key: str, values: dict[str, Any], actor: str) -> models.Connection:
    """A new draft connection with step 1 (source, name, type, time zone) done."""
    if not KEY.fullmatch(key):
        raise InvalidValuesError({"key": "use 1 to 64 letters, digits, hyphens or underscores"})
    if models.Connection.objects.filter(key=key).exists():
        raise InvalidValuesError({"key": f"the key {key!r} is taken"})
    step = validate_source_step(values)
    source = source_named(step.source)
    connection = models.Connection.objects.create(
        key=key,
        name=step.name,
        source=source,
        kind=step.kind,
        time_zone=step.time_zone,
        step=2,
    )
    _record(actor, "connection.created", connection, after=snapshot(connection))
    return connection


def save_step(
    connection: models.Connection, step: int, values: dict[str, Any], actor: str
) -> models.Connection:
    """Validate and store one of steps 1 to 4, and reset the progress to the step after it."""
    if step in (SIMULATE, SCHEDULE):
        raise LifecycleError(f"step {step} is done by simulating and by activating, not a form")
    if not 1 <= step < SIMULATE:
        raise LifecycleError(f"there is no step {step}")
    if step > connection.step:
        raise LifecycleError(f"step {connection.step} comes first")
    before = snapshot(connection)
    with transaction.atomic():
        apply_step(connection, step, values)
        _reset_to(connection, step + 1)
        connection.save()
        after = {**snapshot(connection), "saved_step": step}
        _record(actor, "connection.step_saved", connection, before=before, after=after)
    return connection


def check_target(connection: models.Connection, values: dict[str, Any]) -> CheckResult:
    """ "Test connection" with the entered settings (the stored secret when none is entered):
    what the target kind checks (AD: bind, read the base DN, find the users OU or make sure it
    may be created; SCIM: discovery)."""
    try:
        settings, password = validate_target_step(
            connection.kind, values, has_password=has_password(connection)
        )
    except InvalidValuesError as invalid:
        if (first := wiring.first_contact(connection.kind, values)) is not None:
            return CheckResult(False, first)
        raise invalid
    secret = password or stored_password(connection)
    config = wiring.config_with_secret(connection.kind, settings, secret)
    try:
        found = wiring.check_target(connection.kind, config)
    except TargetError as error:
        return CheckResult(False, str(error))
    return CheckResult(True, found)


def check_compliance(
    connection: models.Connection, actor: str, *, with_writes: bool
) -> ComplianceReport:
    """ "Check compliance" with the stored settings, audited whoever asks (console or API): the
    write checks create and delete test users in the app, so who ran them is on record. Raises
    LookupError for a kind without such checks, MissingSecretError without a secret."""
    report = wiring.check_compliance_of(connection, with_writes=with_writes)
    after = {"with_writes": with_writes, "passed": report.passed, "failed": report.failed}
    _record(actor, "connection.compliance_checked", connection, after=after)
    return report


def simulate(connection: models.Connection, actor: str) -> models.Run:
    """Plan without applying. The run comes back whatever happened: status simulated, or failed
    with its error. A simulation after the last edit completes step 5."""
    _require_state(connection, RUNNABLE, "simulate")
    if connection.step < SIMULATE:
        raise LifecycleError(f"finish step {connection.step} before simulating")
    run = _run(connection, actor, simulate=True)
    if run.status == models.Run.Status.SIMULATED and connection.step == SIMULATE:
        connection.step = SCHEDULE
        connection.save(update_fields=["step", "updated"])
    after = {"run": run.pk, "status": run.status, "plan": run.plan_counts}
    _record(actor, "connection.simulated", connection, after=after)
    return run


def parse_schedule(text: str) -> str:
    """The canonical schedule text; InvalidValuesError on the field "schedule" otherwise."""
    try:
        return format_schedule(_parse_schedule(text))
    except ScheduleError as error:
        raise InvalidValuesError({"schedule": str(error)}) from error


def activate(connection: models.Connection, schedule: str | None, actor: str) -> models.Connection:
    """Save the schedule (None: keep the stored one) and make the connection active. Refused
    until a simulation has run since the last edit."""
    if connection.state == State.DRAFT or connection.step < SCHEDULE:
        raise LifecycleError(
            f"{connection.key} cannot be activated yet: walk the steps and run a simulation "
            "after the last change first"
        )
    text = parse_schedule(schedule if schedule is not None else connection.schedule)
    before = snapshot(connection)
    connection.schedule, connection.state, connection.step = text, State.ACTIVE, DONE
    connection.next_run_at = _next_run(connection)
    connection.save()
    _record(actor, "connection.activated", connection, before=before, after=snapshot(connection))
    return connection


def deactivate(connection: models.Connection, actor: str) -> models.Connection:
    """Stop scheduled runs; the configuration and the schedule are kept for reactivation."""
    _require_state(connection, (State.ACTIVE,), "deactivate")
    before = snapshot(connection)
    connection.state, connection.next_run_at = State.DEACTIVATED, None
    connection.save()
    _record(actor, "connection.deactivated", connection, before=before, after=snapshot(connection))
    return connection


def delete_connection(connection: models.Connection, confirm_name: str, actor: str) -> None:
    """Delete one connection with its runs and links; its audit events stay."""
    if confirm_name.strip() != connection.key:
        raise LifecycleError(f"type the connection's key, {connection.key}, to delete it")
    before, key = snapshot(connection), connection.key
    with transaction.atomic():
        connection.delete()
        audit.record(
            actor, "connection.deleted", "connection", key, before=before, connection_key=key
        )


def approve_run(run: models.Run, actor: str) -> models.Run:
    """Apply exactly the held run's plan, as it was stored (its fingerprint proves it), without
    planning again. The accounts are read again first: each change whose account moved on since
    the plan was held is skipped with the reason (hrsync.engine.recheck), the rest are applied.
    Returns the new run that applied it; the held run records the decision."""
    connection = _held(run)
    _require_state(connection, APPROVABLE, "approve a run of")
    plan = stored_plan(run)
    if plan.fingerprint() != run.fingerprint:
        raise LifecycleError(
            f"the stored plan of run #{run.pk} is not the one that was held (its fingerprint "
            "differs): nothing was applied; reject it and simulate again"
        )
    _claim(run)
    try:
        applied = _run(connection, actor, force=True, approved=plan, only=run.focus)
    except BaseException:
        _unclaim(run)
        raise
    if applied.status == models.Run.Status.FAILED and not applied.plan_counts:
        # The run stopped before applying (directory unreachable): the held run stays held.
        _unclaim(run)
        raise RunError(f"run #{applied.pk} could not start: {applied.error}; try again later")
    skipped = applied.changes.filter(status=Status.SKIPPED).count()
    note = f"approved by {actor}; applied by run #{applied.pk}"
    if skipped:
        note += f" ({skipped} skipped: their accounts changed since the plan was held)"
    _decide(run, actor, "run.approved", applied.status, note)
    return applied


def reject_run(run: models.Run, actor: str, reason: str = "") -> models.Run:
    """Refuse a held run's plan; nothing is applied. A rejected run reads as failed."""
    _held(run)
    note = f"rejected by {actor}" + (f": {reason.strip()}" if reason.strip() else "")
    _decide(run, actor, "run.rejected", models.Run.Status.FAILED, note)
    return run


def next_runs(connection: models.Connection, schedule: str | None = None) -> list[Any]:
    """The next five run times of `schedule` (default: the stored one) in the connection's zone."""
    text = parse_schedule(schedule if schedule is not None else connection.schedule)
    return next_run_times(text, connection.time_zone, count=5)


def snapshot(connection: models.Connection) -> dict[str, Any]:
    """What the audit log records of a connection: everything but the secret."""
    return {
        "key": connection.key,
        "name": connection.name,
        "source": connection.source.key,
        "kind": connection.kind,
        "state": connection.state,
        "step": connection.step,
        "schedule": connection.schedule,
        "time_zone": connection.time_zone,
        "settings": {k: v for k, v in connection.settings.items() if k != "password"},
        "has_password": bool(connection.secret),
    }


def _reset_to(connection: models.Connection, step: int) -> None:
    """Progress goes back to `step`; a connection not fully configured is not active."""
    connection.step = step
    connection.state = State.SIMULATION if step >= SIMULATE else State.DRAFT
    connection.next_run_at = None


# --- helpers ----------------------------------------------------------------------------------


def _require_state(connection: models.Connection, allowed: tuple[State, ...], action: str) -> None:
    if connection.state not in allowed:
        names = " or ".join(str(state.label).lower() for state in allowed)
        raise LifecycleError(
            f"cannot {action} {connection.key}: it is {connection.state}, not {names}"
        )


def _run(
    connection: models.Connection,
    actor: str,
    *,
    simulate: bool = False,
    force: bool = False,
    approved: Plan | None = None,
    only: Collection[str] = (),
) -> models.Run:
    """Run the connection now and return its run record, failed or not."""
    latest = connection.runs.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        summary = run_connection(
            connection.key,
            simulate=simulate,
            force=force,
            started_by=actor[:64],
            approved=approved,
            only=only,
        )
    except ConnectionBusyError as error:  # refused before a run was recorded
        raise RunError(str(error)) from error
    except (TargetError, wiring.MissingSecretError):
        failed = connection.runs.filter(pk__gt=latest).order_by("-pk").first()
        if failed is None:
            raise
        return failed
    run = models.Run.objects.get(pk=summary.run_id)
    if summary.notes and not run.error:
        # e.g. a simulation planned against an empty directory it could not reach: say so.
        run.error = "; ".join(summary.notes)
        run.save(update_fields=["error"])
    _touch(connection, run)
    return run


def _touch(connection: models.Connection, run: models.Run) -> None:
    if run.is_simulation:
        return
    connection.last_run_at = run.finished or timezone.now()
    connection.save(update_fields=["last_run_at", "updated"])


def _next_run(connection: models.Connection) -> Any:
    parsed = _parse_schedule(connection.schedule)
    if isinstance(parsed, OnChange):
        return None
    times = next_run_times(parsed, connection.time_zone, count=1)
    return times[0] if times else None


def _held(run: models.Run) -> models.Connection:
    if run.status != models.Run.Status.HELD:
        raise LifecycleError(f"run #{run.pk} is {run.status}, not held: there is nothing to decide")
    return run.connection


def _claim(run: models.Run) -> None:
    """Mark a held run as being applied, so two approvals at once do not both apply it."""
    held = models.Run.objects.filter(pk=run.pk, status=models.Run.Status.HELD)
    if not held.update(status=models.Run.Status.RUNNING):
        raise LifecycleError(f"run #{run.pk} is being decided by someone else already")


def _unclaim(run: models.Run) -> None:
    models.Run.objects.filter(pk=run.pk).update(status=models.Run.Status.HELD)


def _decide(run: models.Run, actor: str, action: str, status: str, note: str) -> None:
    """A decided held run carries the outcome of the decision and who made it."""
    before = {"status": run.status, "error": run.error}
    run.status, run.error = status, f"{note} ({run.error})" if run.error else note
    run.save(update_fields=["status", "error"])
    after = {"status": run.status, "error": run.error, "fingerprint": run.fingerprint}
    _record(actor, action, run.connection, run=run, before=before, after=after)


def _record(
    actor: str,
    action: str,
    connection: models.Connection,
    *,
    run: models.Run | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """One audit event about the connection, or about one of its runs."""
    kind, key = ("run", str(run.pk)) if run is not None else ("connection", connection.key)
    audit.record(
        actor, action, kind, key, before=before, after=after, connection_key=connection.key
    )
