"""The scheduler: a tick that records due work exactly once, leases that keep one run of a
connection at a time, a worker step that runs queued work, and a sweeper for what got stuck.

Exactly once rests on the database, not on a single scheduler: `tick` inserts one JobRun per
(kind, key, slot) under a unique constraint and commits before anything runs, so any number of
ticks and scheduler instances may race; the loser's insert conflicts and it moves on. A worker runs
a JobRun only while it holds the lease of that connection (or source); a crashed worker's lease
expires, `sweep` puts its JobRun back in the queue, and another worker takes the lease over.

When a slot is due is pure arithmetic (hrsync.jobs.schedules.due_slot).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from django import db
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from hrsync.app import models
from hrsync.app.imports import import_source
from hrsync.app.job_queue import insert_job as _insert
from hrsync.app.job_queue import queue_on_change as queue_on_change  # noqa: PLC0414 (re-exported)
from hrsync.app.runs import run_connection
from hrsync.jobs.schedules import OnChange, ScheduleError, due_slot, parse_schedule, zone_of

log = structlog.get_logger(__name__)

DEFAULT_ZONE = "Europe/Stockholm"
LEASE_TTL = timedelta(minutes=10)
"""How long a lease holds without a heartbeat; longer than the longest expected run."""
QUEUED_TOO_LONG = timedelta(minutes=15)
"""A JobRun queued longer than this is re-queued by the sweeper (its message may be lost)."""
CLAIM_WINDOW = 50
"""How many of the oldest queued JobRuns a worker looks at to find one it may run."""

Kind = models.JobRun.Kind
State = models.JobRun.State


# --- the tick ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scheduled:
    """A source or connection as the tick sees it."""

    kind: str
    key: str
    schedule: str
    zone: str
    since: datetime
    """When it came to be: the baseline before its first slot was handled."""


def tick(now: datetime) -> list[models.JobRun]:
    """Insert a JobRun for every source and active connection whose schedule is due at `now`.

    Each insert commits before this returns and before anything runs; a slot some other
    scheduler already inserted is skipped. Returns the JobRuns this call inserted."""
    inserted: list[models.JobRun] = []
    for item in _scheduled():
        inserted += _tick_one(item, now)
    return inserted


def _scheduled() -> list[_Scheduled]:
    sources = [
        _Scheduled(
            Kind.IMPORT,
            source.key,
            source.schedule,
            str(source.settings.get("time_zone", DEFAULT_ZONE)),
            source.created,
        )
        for source in models.Source.objects.exclude(schedule="")
    ]
    active = models.Connection.objects.filter(state=models.Connection.State.ACTIVE)
    connections = [
        _Scheduled(Kind.CONNECTION, row.key, row.schedule, row.time_zone, row.created)
        for row in active.exclude(schedule="")
    ]
    return sources + connections


def _tick_one(item: _Scheduled, now: datetime) -> list[models.JobRun]:
    if not _is_clocked(item):
        return []
    answer = due_slot(item.schedule, item.zone, _last_slot(item.kind, item.key) or item.since, now)
    with transaction.atomic():
        job = _insert(item.kind, item.key, answer.slot, "schedule", now) if answer.slot else None
        if item.kind == Kind.CONNECTION:
            models.Connection.objects.filter(key=item.key).update(next_run_at=answer.next_slot)
    return [job] if job is not None else []


def _is_clocked(item: _Scheduled) -> bool:
    try:
        zone_of(item.zone)
        return not isinstance(parse_schedule(item.schedule), OnChange)
    except ScheduleError as error:
        # config load and the console validate schedules; a bad one in the store is skipped.
        log.warning("schedule skipped", kind=item.kind, key=item.key, error=str(error))
        return False


def _last_slot(kind: str, key: str) -> datetime | None:
    found = models.JobRun.objects.filter(kind=kind, key=key, started_by="schedule").aggregate(
        last=Max("scheduled_for")
    )
    last: datetime | None = found["last"]
    return last


# --- leases ------------------------------------------------------------------------------------


def acquire_lease(name: str, owner: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """Take the lease `name` for `owner` until now + ttl: when free, expired, or already ours."""
    values = {"owner": owner, "expires": now + ttl, "heartbeat": now}
    try:
        with transaction.atomic():
            models.Lease.objects.create(connection_key=name, **values)
        return True
    except IntegrityError:
        pass
    # One conditional UPDATE: of two workers stealing the same expired lease, the second finds
    # the condition no longer true once the first has committed.
    taken = (
        models.Lease.objects.filter(connection_key=name)
        .filter(Q(expires__lte=now) | Q(owner=owner))
        .update(**values)
    )
    return taken == 1


def renew_lease(name: str, owner: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """The heartbeat: push the expiry on while the lease is still ours."""
    renewed = models.Lease.objects.filter(connection_key=name, owner=owner).update(
        expires=now + ttl, heartbeat=now
    )
    return renewed == 1


def release_lease(name: str, owner: str) -> None:
    models.Lease.objects.filter(connection_key=name, owner=owner).delete()


@contextmanager
def heartbeat(name: str, owner: str, ttl: timedelta = LEASE_TTL) -> Iterator[None]:
    """Renew the lease every third of its ttl while the block runs, so a long run keeps it and
    only a crashed worker's lease expires. The renewals run in a thread with its own connection."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait((ttl / 3).total_seconds()):
                if not renew_lease(name, owner, timezone.now(), ttl):
                    log.warning("lease lost", lease=name, owner=owner)
                    return
        finally:
            db.connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def lease_name(job: models.JobRun) -> str:
    """Connections lease by their key; imports by "import:<source key>"."""
    return job.key if job.kind == Kind.CONNECTION else f"import:{job.key}"


# --- the worker step ---------------------------------------------------------------------------


def claim_and_run(worker: str, now: datetime | None = None) -> models.JobRun | None:
    """Run the oldest queued JobRun whose lease this worker can take; None when there is none.

    The JobRun ends done or failed with the error; the lease is released either way."""
    moment = now or timezone.now()
    queue = models.JobRun.objects.filter(state=State.QUEUED).order_by("queued", "pk")
    for job in queue[:CLAIM_WINDOW]:
        name = lease_name(job)
        if not acquire_lease(name, worker, moment):
            continue  # someone runs this connection now; its JobRun waits for the next worker
        try:
            if _claim(job, worker, moment):
                with heartbeat(name, worker):
                    _execute(job, worker)
                return job
        finally:
            release_lease(name, worker)
    return None


def _claim(job: models.JobRun, worker: str, now: datetime) -> bool:
    claimed = models.JobRun.objects.filter(pk=job.pk, state=State.QUEUED).update(
        state=State.RUNNING, worker=worker, started=now, attempts=F("attempts") + 1, error=""
    )
    job.refresh_from_db()
    return claimed == 1


def _execute(job: models.JobRun, worker: str) -> None:
    bound = log.bind(job_run=job.pk, kind=job.kind, key=job.key, worker=worker)
    try:
        if job.kind == Kind.IMPORT:
            _run_import(job)
        else:
            _run_connection(job)
    except Exception as error:  # the boundary: any failure is recorded, not lost
        bound.warning("job failed", error=str(error))
        _link_failed_record(job)
        job.state, job.error = State.FAILED, str(error) or type(error).__name__
    job.finished = timezone.now()
    job.save()
    bound.info("job finished", state=job.state)


def _run_import(job: models.JobRun) -> None:
    summary = import_source(job.key)
    job.source_import_id = summary.import_id
    job.state = State.DONE
    # import_source itself queues the source's on-change connections when it found changes.


def _run_connection(job: models.JobRun) -> None:
    summary = run_connection(job.key, started_by=job.started_by)
    job.run_id = summary.run_id
    job.state = State.FAILED if summary.status == models.Run.Status.FAILED else State.DONE


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
    (the worker crashed). Attempts count the starts, so a re-queue leaves them as they are."""
    stale = list(
        models.JobRun.objects.filter(state=State.QUEUED, queued__lte=now - queued_too_long)
    )
    stale += [
        job for job in models.JobRun.objects.filter(state=State.RUNNING) if _is_orphan(job, now)
    ]
    requeued: list[models.JobRun] = []
    for job in stale:
        moved = models.JobRun.objects.filter(pk=job.pk, state=job.state, worker=job.worker).update(
            state=State.QUEUED, queued=now, worker="", error=_requeue_reason(job)
        )
        if moved == 1:
            job.refresh_from_db()
            requeued.append(job)
    return requeued


def _is_orphan(job: models.JobRun, now: datetime) -> bool:
    """Running, but no live lease of its worker holds its connection."""
    return not models.Lease.objects.filter(
        connection_key=lease_name(job), owner=job.worker, expires__gt=now
    ).exists()


def _requeue_reason(job: models.JobRun) -> str:
    if job.state == State.RUNNING:
        return f"re-queued: the lease of worker {job.worker} expired"
    return "re-queued: waited in the queue too long"
