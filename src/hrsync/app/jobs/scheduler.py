"""The scheduler: a tick that records due work exactly once, and a sweeper for what got stuck.

Exactly once rests on the database, not on a single scheduler: `tick` inserts one JobRun per
(kind, key, slot) under a unique constraint and commits before anything runs, so any number of
ticks and scheduler instances may race; the loser's insert conflicts and it moves on. A worker runs
a JobRun only while it holds the lease of that connection (or source) (hrsync.app.jobs.work); a
crashed worker's lease expires, `sweep` puts its JobRun back in the queue, and another worker
takes the lease over.

When a slot is due is pure arithmetic (hrsync.app.jobs.schedules.due_slot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from django.db import transaction

from hrsync.app import models
from hrsync.app.jobs.queue import insert_slots
from hrsync.app.jobs.queue import queue_on_change as queue_on_change  # noqa: PLC0414 (re-exported)
from hrsync.app.jobs.schedules import OnChange, ScheduleError, due_slot, parse_schedule, zone_of
from hrsync.app.jobs.work import history_entry, lease_name, retry_policy
from hrsync.app.sources.manual import MANUAL_KIND

log = structlog.get_logger(__name__)

DEFAULT_ZONE = "Europe/Stockholm"
QUEUED_TOO_LONG = timedelta(minutes=15)
"""A JobRun queued longer than this is re-queued by the sweeper (its message may be lost)."""

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
        # The built-in manual source has no connector: nothing to import, whatever its row says.
        for row in models.Source.objects.exclude(schedule="").exclude(kind=MANUAL_KIND)
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
            changes["history"] = [*job.history, history_entry(job, job.worker, None, reason)]
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
