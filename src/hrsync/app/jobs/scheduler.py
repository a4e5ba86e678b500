"""The scheduler: a tick that records due work exactly once, leases that keep one run of a
connection at a time, a worker step that runs queued work, and a sweeper for what got stuck.

Exactly once rests on the database, not on a single scheduler: `tick` inserts one JobRun per
(kind, key, slot) under a unique constraint and commits before anything runs, so any number of
ticks and scheduler instances may race; the loser's insert conflicts and it moves on. A worker runs
a JobRun only while it holds the lease of that connection (or source); a crashed worker's lease
expires, `sweep` puts its JobRun back in the queue, and another worker takes the lease over.

When a slot is due is pure arithmetic (hrsync.app.jobs.schedules.due_slot).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from django import db
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hrsync.app import models
from hrsync.app.imports.source_import import import_source
from hrsync.app.jobs.leases import acquire_lease, heartbeat, lease_ttl, release_lease
from hrsync.app.jobs.queue import insert_slots
from hrsync.app.jobs.queue import queue_on_change as queue_on_change  # noqa: PLC0414 (re-exported)
from hrsync.app.jobs.schedules import OnChange, ScheduleError, due_slot, parse_schedule, zone_of
from hrsync.app.runs.connection_run import run_connection
from hrsync.domain.errors import SourceUnavailableError, TransientError

log = structlog.get_logger(__name__)

DEFAULT_ZONE = "Europe/Stockholm"
QUEUED_TOO_LONG = timedelta(minutes=15)
"""A JobRun queued longer than this is re-queued by the sweeper (its message may be lost)."""
CLAIM_WINDOW = 50
"""How many of the oldest queued JobRuns a worker looks at to find one it may run."""

Kind = models.JobRun.Kind
State = models.JobRun.State


# --- retries -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with "equal jitter": the wait before attempt n + 1 lies between half
    and all of base * 2^(n-1), capped. Jitter spreads the retries of many connections that failed
    together; the lower half keeps each gap at least as long as the one before, until the cap."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(minutes=15)
    max_attempts: int = 5

    def retry_at(
        self, attempts: int, now: datetime, rand: Callable[[], float] = random.random
    ) -> datetime | None:
        """When to try again after `attempts` starts; None when they are used up."""
        if attempts >= self.max_attempts:
            return None
        ceiling: timedelta = min(self.cap, self.base * 2 ** (attempts - 1))
        return now + ceiling * (0.5 + rand() / 2)


def retry_policy() -> RetryPolicy:
    """From the settings HRSYNC_RETRY_BASE_SECONDS, _CAP_SECONDS and HRSYNC_MAX_ATTEMPTS."""
    return RetryPolicy(
        timedelta(seconds=settings.HRSYNC_RETRY_BASE_SECONDS),
        timedelta(seconds=settings.HRSYNC_RETRY_CAP_SECONDS),
        settings.HRSYNC_MAX_ATTEMPTS,
    )


TRANSIENT = (TransientError, SourceUnavailableError, OSError, db.OperationalError)
"""Failures a later attempt may not meet: the target or HR API unreachable, busy or timing out,
a database connection lost. Everything else — refused credentials, a missing secret, a rejected
value, a bug — fails the JobRun at once with the reason."""


def is_transient(error: BaseException | None) -> bool:
    return isinstance(error, TRANSIENT)


# --- the tick ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scheduled:
    """A source or connection as the tick sees it."""

    kind: str
    key: str
    schedule: str
    zone: str
    last_slot: datetime
    """The last slot queued; before the first, when it came to be."""
    next_run_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Due:
    item: _Scheduled
    slot: datetime | None
    next_slot: datetime | None


def tick(now: datetime) -> list[models.JobRun]:
    """Insert a JobRun for every source and active connection whose schedule is due at `now`.

    One transaction, a handful of statements however many connections are due: the inserts
    (a slot another scheduler already inserted is skipped by the database), then each item's
    last slot and next run time. It commits before this returns and before anything runs; the
    new ids go on the queue as it commits. Returns the JobRuns this call inserted."""
    answers = [
        _Due(item, answer.slot, answer.next_slot)
        for item in _scheduled()
        if _is_clocked(item)
        for answer in [due_slot(item.schedule, item.zone, item.last_slot, now)]
    ]
    due = [answer for answer in answers if answer.slot is not None]
    with transaction.atomic():
        inserted = insert_slots([(a.item.kind, a.item.key, a.slot) for a in due if a.slot], now)
        _advance(due, answers)
    return inserted


def _scheduled() -> list[_Scheduled]:
    sources = [
        _Scheduled(
            Kind.IMPORT,
            row.key,
            row.schedule,
            str(row.settings.get("time_zone", DEFAULT_ZONE)),
            row.last_slot or row.created,
        )
        for row in models.Source.objects.exclude(schedule="")
    ]
    active = models.Connection.objects.filter(state=models.Connection.State.ACTIVE)
    connections = [
        _Scheduled(
            Kind.CONNECTION,
            row.key,
            row.schedule,
            row.time_zone,
            row.last_slot or row.created,
            row.next_run_at,
        )
        for row in active.exclude(schedule="")
    ]
    return sources + connections


def _advance(due: list[_Due], answers: list[_Due]) -> None:
    """Record each due item's slot as its last, and each connection's next run time where it
    changed — in one UPDATE per table."""
    slots = {(a.item.kind, a.item.key): a.slot for a in due}
    sources = list(models.Source.objects.filter(key__in=[k for t, k in slots if t == Kind.IMPORT]))
    for source in sources:
        source.last_slot = slots[(Kind.IMPORT, source.key)]
    models.Source.objects.bulk_update(sources, ["last_slot"])
    moved = {
        a.item.key: a
        for a in answers
        if a.item.kind == Kind.CONNECTION and (a.slot or a.item.next_run_at != a.next_slot)
    }
    connections = list(models.Connection.objects.filter(key__in=list(moved)))
    for connection in connections:
        answer = moved[connection.key]
        connection.next_run_at = answer.next_slot
        connection.last_slot = answer.slot or connection.last_slot
    models.Connection.objects.bulk_update(connections, ["next_run_at", "last_slot"], batch_size=500)


def _is_clocked(item: _Scheduled) -> bool:
    try:
        zone_of(item.zone)
        return not isinstance(parse_schedule(item.schedule), OnChange)
    except ScheduleError as error:
        # config load and the console validate schedules; a bad one in the store is skipped.
        log.warning("schedule skipped", kind=item.kind, key=item.key, error=str(error))
        return False


def lease_name(job: models.JobRun) -> str:
    """Connections lease by their key; imports by "import:<source key>"."""
    return job.key if job.kind == Kind.CONNECTION else f"import:{job.key}"


# --- the worker step ---------------------------------------------------------------------------


class Outcome(StrEnum):
    """What became of one request to run a JobRun."""

    RAN = "ran"
    """Ran to done or failed, or failed transiently and waits for its retry (see job.queued)."""
    BUSY = "busy"
    """Another worker holds the lease of its connection: ask again shortly."""
    STALE = "stale"
    """Not queued any more (ran already, or another worker took it): nothing to do."""
    EARLY = "early"
    """A retry whose time has not come: ask again at job.queued."""


@dataclass(frozen=True, slots=True)
class Attempt:
    job: models.JobRun | None
    outcome: Outcome


def run_job(job_id: int, worker: str, now: datetime | None = None) -> Attempt:
    """Run the queued JobRun `job_id` (a queue message carries only this id) under its lease.

    A duplicate or late message finds the JobRun no longer queued and does nothing, so a message
    delivered twice never runs the work twice."""
    moment = now or timezone.now()
    job = models.JobRun.objects.filter(pk=job_id).first()
    if job is None or job.state != State.QUEUED:
        return Attempt(job, Outcome.STALE)
    if job.queued > moment:
        return Attempt(job, Outcome.EARLY)
    return Attempt(job, _run_leased(job, worker, moment))


def claim_and_run(worker: str, now: datetime | None = None) -> models.JobRun | None:
    """Run the oldest ready JobRun whose lease this worker can take; None when there is none.

    The database is the queue here (`hrsync scheduler tick` runs it in one process); the task
    queue's workers use `run_job` with the id instead."""
    moment = now or timezone.now()
    ready = models.JobRun.objects.filter(state=State.QUEUED, queued__lte=moment)
    for job in ready.order_by("queued", "pk")[:CLAIM_WINDOW]:
        if _run_leased(job, worker, moment) is Outcome.RAN:
            return job
    return None


def _run_leased(job: models.JobRun, worker: str, now: datetime) -> Outcome:
    name = lease_name(job)
    if not acquire_lease(name, worker, now, lease_ttl()):
        return Outcome.BUSY  # someone runs this connection now; this JobRun waits its turn
    try:
        if not _claim(job, worker, now):
            return Outcome.STALE
        with heartbeat(name, worker, lease_ttl()):
            _execute(job, worker, retry_policy())
        return Outcome.RAN
    finally:
        release_lease(name, worker)


def _claim(job: models.JobRun, worker: str, now: datetime) -> bool:
    claimed = models.JobRun.objects.filter(pk=job.pk, state=State.QUEUED).update(
        state=State.RUNNING, worker=worker, started=now, attempts=F("attempts") + 1, error=""
    )
    job.refresh_from_db()
    return claimed == 1


def _execute(job: models.JobRun, worker: str, policy: RetryPolicy) -> None:
    bound = log.bind(job_run=job.pk, kind=job.kind, key=job.key, worker=worker)
    error: Exception | None = None
    try:
        if job.kind == Kind.IMPORT:
            _run_import(job)
        else:
            _run_connection(job)
    except Exception as failure:  # the boundary: any failure is recorded, not lost
        error = failure
        _link_failed_record(job)
    finished = timezone.now()
    retry_at = policy.retry_at(job.attempts, finished) if is_transient(error) else None
    if error is None:
        job.state = State.DONE
    elif retry_at is not None:
        job.state, job.queued, job.worker = State.QUEUED, retry_at, ""
        job.error = (
            f"attempt {job.attempts} failed: {_describe(error)}; "
            f"next attempt at {retry_at:%H:%M:%S} UTC"
        )
    else:
        job.state, job.error = State.FAILED, _describe(error)
    job.finished = None if job.state == State.QUEUED else finished
    job.history = [*job.history, _history_entry(job, worker, finished, error, retry_at)]
    job.save()
    bound.info("job finished", state=job.state, attempt=job.attempts, error=job.error or None)


def _history_entry(
    job: models.JobRun,
    worker: str,
    finished: datetime | None,
    error: Exception | str | None,
    retry_at: datetime | None = None,
) -> dict[str, object]:
    return {
        "attempt": job.attempts,
        "worker": worker,
        "started": job.started.isoformat() if job.started else None,
        "finished": finished.isoformat() if finished else None,
        "outcome": "done" if error is None else "lost" if isinstance(error, str) else "failed",
        "error": "" if error is None else error if isinstance(error, str) else _describe(error),
        "transient": isinstance(error, str) or is_transient(error),
        "retry_at": retry_at.isoformat() if retry_at else None,
    }


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__


def _run_import(job: models.JobRun) -> None:
    summary = import_source(job.key)
    job.source_import_id = summary.import_id
    # import_source itself queues the source's on-change connections when it found changes.


def _run_connection(job: models.JobRun) -> None:
    summary = run_connection(job.key, started_by=job.started_by, holds_lease=True)
    job.run_id = summary.run_id
    if summary.unreachable:
        raise TransientError(
            f"the target could not be reached for {summary.unreachable} of the changes "
            f"(run {summary.run_id}); they wait for the next attempt"
        )
    if summary.status == models.Run.Status.FAILED:
        reason = "; ".join(summary.notes) or f"{summary.failed} changes failed"
        raise RunFailedError(f"run {summary.run_id} failed: {reason}")


class RunFailedError(Exception):
    """A run finished with failed changes the target refused: retrying would change nothing."""


def _link_failed_record(job: models.JobRun) -> None:
    """Link the Run or Import a failing job wrote before it raised, when there is one."""
    if job.started is None:
        return
    if job.kind == Kind.IMPORT:
        job.source_import = (
            models.Import.objects.filter(source__key=job.key, started__gte=job.started)
            .order_by("-pk")
            .first()
        )
    else:
        job.run = (
            models.Run.objects.filter(connection__key=job.key, started__gte=job.started)
            .order_by("-pk")
            .first()
        )


# --- the sweeper -------------------------------------------------------------------------------


def sweep(now: datetime, queued_too_long: timedelta = QUEUED_TOO_LONG) -> list[models.JobRun]:
    """Re-queue JobRuns queued for too long, and running ones whose worker's lease has expired
    (the worker crashed). Attempts count the starts, so a re-queue leaves them as they are; a
    job whose workers were lost as often as the attempts allow (one that crashes every worker
    it runs on) fails instead. Returns the re-queued ones."""
    stale = list(
        models.JobRun.objects.filter(state=State.QUEUED, queued__lte=now - queued_too_long)
    )
    stale += [
        job for job in models.JobRun.objects.filter(state=State.RUNNING) if _is_orphan(job, now)
    ]
    attempts_allowed = retry_policy().max_attempts
    requeued: list[models.JobRun] = []
    for job in stale:
        reason = _requeue_reason(job)
        changes: dict[str, object] = {"state": State.QUEUED, "queued": now, "error": reason}
        if job.state == State.RUNNING:  # the crashed attempt, which could not record itself
            changes["history"] = [*job.history, _history_entry(job, job.worker, None, reason)]
            if job.attempts >= attempts_allowed:
                changes |= {"state": State.FAILED, "finished": now, "error": _given_up(job)}
        moved = models.JobRun.objects.filter(pk=job.pk, state=job.state, worker=job.worker).update(
            worker="", **changes
        )
        if moved == 1 and changes["state"] == State.QUEUED:
            job.refresh_from_db()
            requeued.append(job)
    return requeued


def _given_up(job: models.JobRun) -> str:
    return (
        f"failed: the worker running it was lost on each of {job.attempts} attempts "
        f"(last: {job.worker}); look for a crash in the workers' logs"
    )


def _is_orphan(job: models.JobRun, now: datetime) -> bool:
    """Running, but no live lease of its worker holds its connection."""
    return not models.Lease.objects.filter(
        connection_key=lease_name(job), owner=job.worker, expires__gt=now
    ).exists()


def _requeue_reason(job: models.JobRun) -> str:
    if job.state == State.RUNNING:
        return f"re-queued: the lease of worker {job.worker} expired"
    return "re-queued: waited in the queue too long"
