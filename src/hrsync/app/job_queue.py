"""The job queue's table: insert a due job exactly once; queue on-change runs after an import."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from hrsync.app import models
from hrsync.jobs.schedules import OnChange, ScheduleError, parse_schedule

Kind = models.JobRun.Kind


def insert_job(
    kind: str, key: str, slot: datetime, started_by: str, now: datetime
) -> models.JobRun | None:
    """The new JobRun, or None when this (kind, key, slot) is already there."""
    try:
        with transaction.atomic():  # a savepoint: a conflict must not spoil the outer transaction
            return models.JobRun.objects.create(
                kind=kind, key=key, scheduled_for=slot, started_by=started_by, queued=now
            )
    except IntegrityError:
        return None


def queue_on_change(source_key: str, now: datetime) -> list[models.JobRun]:
    """Queue a run of every active on-change connection of the source, at once (an import of it
    found personnel changes). Returns the JobRuns queued."""
    connections = models.Connection.objects.filter(
        source__key=source_key, state=models.Connection.State.ACTIVE
    )
    queued: list[models.JobRun] = []
    for connection in connections:
        if _is_on_change(connection.schedule):
            job = insert_job(Kind.CONNECTION, connection.key, now, "on-change", now)
            queued += [job] if job is not None else []
    return queued


def _is_on_change(schedule: str) -> bool:
    try:
        return isinstance(parse_schedule(schedule), OnChange)
    except ScheduleError:
        return False
