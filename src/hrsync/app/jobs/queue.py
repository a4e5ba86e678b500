"""The job queue: JobRun rows in the database, and their ids on a Huey queue to the workers.

The database row is the truth (state, attempts, outcome); the queue only carries ids, so a
message lost, duplicated or delivered late does no harm: the sweeper re-sends what waited too
long, and a worker that receives the id of a JobRun no longer queued does nothing.

The queue's storage is chosen by HRSYNC_QUEUE_URL: `sqlite:///path`, `redis://…` or
`postgresql://…`; unset, the database's own PostgreSQL when DATABASE_URL names one, else a SQLite
file in the data directory (one process: `hrsync serve`).
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from django import db
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from psycopg.conninfo import make_conninfo

from hrsync.app import models
from hrsync.app.jobs import work
from hrsync.app.jobs.schedules import OnChange, ScheduleError, parse_schedule
from hrsync.app.security.permissions import create_private_file

log = structlog.get_logger(__name__)

Kind = models.JobRun.Kind
TASK_NAME = "hrsync.run_job"
BUSY_DELAY = timedelta(seconds=5)
"""How long a JobRun waits when another worker runs its connection, before it asks again."""


class QueueConfigError(ValueError):
    """HRSYNC_QUEUE_URL names no storage hrsync knows."""


# --- the table ---------------------------------------------------------------------------------


def insert_job(
    kind: str, key: str, slot: datetime, started_by: str, now: datetime
) -> models.JobRun | None:
    """The new JobRun, or None when this (kind, key, slot) is already there. Its id goes on the
    queue once the surrounding transaction commits (a worker must find the row)."""
    try:
        with transaction.atomic():  # a savepoint: a conflict must not spoil the outer transaction
            job = models.JobRun.objects.create(
                kind=kind, key=key, scheduled_for=slot, started_by=started_by, queued=now
            )
    except IntegrityError:
        return None
    transaction.on_commit(functools.partial(send, [job.pk]))
    return job


INSERT_BATCH = 500
_INSERT_SLOTS = (
    "INSERT INTO {table} (kind, key, scheduled_for, started_by, state, attempts, history, "
    "created, queued, worker, error) VALUES {rows} "
    "ON CONFLICT (kind, key, scheduled_for) DO NOTHING RETURNING id"
)
_SLOT_ROW = "(%s, %s, %s, 'schedule', 'queued', 0, '[]', %s, %s, '', '')"


def insert_slots(slots: list[tuple[str, str, datetime]], now: datetime) -> list[models.JobRun]:
    """Insert a scheduled JobRun per (kind, key, slot) in a few statements, skipping the slots
    already there (another scheduler's); the inserted ones, whose ids go on the queue once the
    surrounding transaction commits.

    Raw SQL for one reason: `INSERT … ON CONFLICT DO NOTHING RETURNING` tells exactly which rows
    this call inserted, on PostgreSQL and on SQLite alike; bulk_create cannot."""
    table = connection.ops.quote_name(models.JobRun._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    ids: list[int] = []
    for start in range(0, len(slots), INSERT_BATCH):
        batch = slots[start : start + INSERT_BATCH]
        rows = ", ".join([_SLOT_ROW] * len(batch))
        params: list[Any] = []
        for kind, key, slot in batch:
            params += [kind, key, connection.ops.adapt_datetimefield_value(slot), stamp, stamp]
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_SLOTS.format(table=table, rows=rows), params)
            ids += [row[0] for row in cursor.fetchall()]
    if ids:
        transaction.on_commit(functools.partial(send, sorted(ids)))
    return list(models.JobRun.objects.filter(pk__in=ids).order_by("pk"))


def queue_on_change(source_key: str, now: datetime) -> list[models.JobRun]:
    """Queue a run of every active on-change connection of the source, at once (an import of it
    found personnel changes). Returns the JobRuns queued."""
    connections = models.Connection.objects.filter(
        source__key=source_key, state=models.Connection.State.ACTIVE
    )
    queued: list[models.JobRun] = []
    for row in connections:
        if _is_on_change(row.schedule):
            job = insert_job(Kind.CONNECTION, row.key, now, "on-change", now)
            queued += [job] if job is not None else []
    return queued


def _is_on_change(schedule: str) -> bool:
    try:
        return isinstance(parse_schedule(schedule), OnChange)
    except ScheduleError:
        return False


# --- the messages ------------------------------------------------------------------------------


def send(job_ids: list[int], eta: datetime | None = None) -> None:
    """Put these JobRun ids on the queue, to run now or at `eta`. Best effort: when the queue
    cannot be reached the rows stay queued and the sweeper sends them again."""
    task = run_job_task()
    for job_id in job_ids:
        try:
            if eta is None:
                task(job_id)
            else:
                task.schedule(args=(job_id,), eta=eta)
        except Exception as error:  # the queue down must not fail an import or a tick
            _log_unsent(job_id, error)


def _log_unsent(job_id: int, error: Exception) -> None:
    log.warning(
        "job not sent to the queue; the sweeper sends it again",
        job_run=job_id,
        error=str(error),
    )


def worker_name() -> str:
    """host:pid:thread — who ran a JobRun, recorded on it and on its lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def execute(job_id: int) -> None:
    """The task behind a queue message: run JobRun `job_id`, or send it again for later when its
    connection is busy or its retry is not due yet."""
    db.close_old_connections()
    try:
        attempt = work.run_job(job_id, worker_name())
        job = attempt.job
        match attempt.outcome:
            case work.Outcome.BUSY:
                send([job_id], eta=timezone.now() + BUSY_DELAY)
            case work.Outcome.EARLY if job is not None:
                send([job_id], eta=job.queued)
            case work.Outcome.RAN if job is not None and job.state == models.JobRun.State.QUEUED:
                send([job_id], eta=job.queued)  # a transient failure: the retry
    finally:
        db.close_old_connections()


def queue_url() -> str:
    """The configured queue URL, or the default for this database."""
    if settings.HRSYNC_QUEUE_URL:
        return str(settings.HRSYNC_QUEUE_URL)
    if connection.vendor == "postgresql":
        return "postgresql:"  # the database's own connection settings
    return f"sqlite:///{settings.HOME / 'queue.sqlite3'}"


def get_huey() -> Huey:
    return _huey_for(queue_url(), settings.HRSYNC_QUEUE_NAME)


def run_job_task() -> TaskWrapper:
    return _task_for(queue_url(), settings.HRSYNC_QUEUE_NAME)


@functools.cache
def _huey_for(url: str, name: str) -> Huey:
    """The Huey of this storage; `name` keeps installations sharing one Redis apart."""
    parts = urlsplit(url)
    match parts.scheme:
        case "sqlite":
            if not Path(parts.path).exists():
                create_private_file(Path(parts.path))  # beside the database, as private
            return SqliteHuey(name, filename=parts.path, results=False, utc=True)
        case "redis" | "rediss":
            return RedisHuey(name, url=url, results=False, utc=True)
        case "postgres" | "postgresql":
            huey = PostgresHuey(
                name,
                results=False,
                utc=True,
                table_prefix="hrsync_queue",
                create_tables=False,
                **_postgres_dsn(url),
            )
            _create_postgres_tables(huey)
            return huey
    raise QueueConfigError(
        f"HRSYNC_QUEUE_URL {url!r}: use sqlite:///path, redis://host:port/db or postgresql://…"
    )


def _postgres_dsn(url: str) -> dict[str, str]:
    if urlsplit(url).netloc or urlsplit(url).path:
        return {"dsn": url}
    params = connection.get_connection_params()
    allowed = ("host", "port", "dbname", "user", "password")
    return {"dsn": make_conninfo(**{key: params[key] for key in allowed if params.get(key)})}


def _create_postgres_tables(huey: Huey) -> None:
    """Huey's `create table if not exists` races when several processes start at once (two
    creators of one table type collide in pg_type); one at a time, under an advisory lock."""
    with huey.storage.db(commit=True, close=True) as cursor:
        cursor.execute("select pg_advisory_xact_lock(hashtext('hrsync_queue'))")
        for statement in huey.storage.ddl:
            cursor.execute(statement)


@functools.cache
def _task_for(url: str, name: str) -> TaskWrapper:
    def run_job(job_id: int) -> None:
        execute(job_id)

    wrapper: TaskWrapper = _huey_for(url, name).task(name=TASK_NAME, retries=0)(run_job)
    return wrapper
