"""A connection's last, current and next run as the console and the API show them.

The scheduler's JobRun rows are the record of scheduled and queued work: who or what started it,
its attempts, the worker, the outcome. A run started by hand (the CLI, "run now") has a Run and
no JobRun, so the last run is whichever of the two finished later. The next run is the
scheduler's `next_run_at`, or the schedule's next time before the first tick has set it.

`run_times` answers for a whole page of connections in a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from hrsync.app.jobs.schedules import ON_CHANGE, ScheduleError, is_clocked, next_run_times
from hrsync.app.models import Connection, JobRun, Run

JOB_FIELDS = ("state", "started_by", "queued", "started", "finished", "attempts", "worker", "run")
RUN_FIELDS = ("status", "started_by", "finished")
Ids = tuple[int | None, int | None, int | None]
"""A connection's latest finished JobRun, current JobRun and latest finished Run."""
Row = TypeVar("Row", JobRun, Run)


@dataclass(frozen=True, slots=True)
class LastRun:
    """The latest finished run. `state` is the JobRun's (done, failed, …), or the Run's status
    for a run started by hand; `run_status` is the status of the Run it produced."""

    state: str
    started_by: str
    finished: datetime
    attempts: int
    worker: str
    run_id: int | None
    run_status: str | None

    @property
    def run_note(self) -> str:
        """The Run's status when it says more than the state: a JobRun is done when its run
        was held by the safety gate, which an operator must see."""
        if self.run_status in (None, self.state, Run.Status.SUCCEEDED):
            return ""
        return str(self.run_status)


@dataclass(frozen=True, slots=True)
class CurrentRun:
    """A JobRun not finished yet: running, queued, or waiting for a retry."""

    state: str
    started_by: str
    since: datetime
    """When it started (running) or is ready to run (otherwise)."""
    is_waiting: bool
    """`since` is still to come: a retry waits for its time."""


@dataclass(frozen=True, slots=True)
class RunTimes:
    last: LastRun | None
    current: CurrentRun | None
    next_run: datetime | None
    """None when not active, on change, or without a clock time."""
    is_on_change: bool
    """Active and run whenever the source changes: there is no next clock time."""


def run_times(connections: Sequence[Connection]) -> dict[int, RunTimes]:
    """The run times of each connection, by primary key: three queries, whatever the count."""
    if not connections:
        return {}
    ids = _latest_ids([row.pk for row in connections])
    job_ids = [pk for last, current, _ in ids.values() for pk in (last, current) if pk]
    jobs = JobRun.objects.select_related("run").only(*JOB_FIELDS, "run__status").in_bulk(job_ids)
    runs = Run.objects.only(*RUN_FIELDS).in_bulk([run for *_, run in ids.values() if run])
    now = timezone.now()
    times: dict[int, RunTimes] = {}
    for row in connections:
        last, current, run = ids.get(row.pk, (None, None, None))
        times[row.pk] = RunTimes(
            last=_last(_pick(jobs, last), _pick(runs, run)),
            current=_current(_pick(jobs, current), now),
            next_run=next_run(row),
            is_on_change=_is_on_change(row),
        )
    return times


def _latest_ids(pks: list[int]) -> dict[int, Ids]:
    """Per connection: its latest finished JobRun, the JobRun it runs or waits for (the one that
    started last: a running one before one still queued), its latest finished real Run."""
    jobs = JobRun.objects.filter(kind=JobRun.Kind.CONNECTION, key=OuterRef("key"))
    finished = jobs.exclude(finished=None).order_by("-finished", "-pk")
    current = jobs.filter(finished=None).order_by(F("started").desc(nulls_last=True), "-pk")
    runs = Run.objects.filter(connection=OuterRef("pk"), is_simulation=False).exclude(finished=None)
    rows = Connection.objects.filter(pk__in=pks).annotate(
        last_job=Subquery(finished.values("pk")[:1]),
        current_job=Subquery(current.values("pk")[:1]),
        last_run=Subquery(runs.order_by("-finished", "-pk").values("pk")[:1]),
    )
    found = rows.values_list("pk", "last_job", "current_job", "last_run")
    return {pk: (last, current, run) for pk, last, current, run in found}


def _pick(rows: dict[int, Row], pk: int | None) -> Row | None:
    return rows.get(pk) if pk is not None else None


def _last(job: JobRun | None, run: Run | None) -> LastRun | None:
    """The later of the two. A JobRun finishes after the Run it produced, so a Run that finished
    later was started by hand; on a tie the JobRun, which tells more, wins."""
    candidates: list[LastRun] = []
    if job is not None and job.finished is not None:
        candidates.append(_of_job(job, job.finished))
    if run is not None and run.finished is not None:
        candidates.append(_of_run(run, run.finished))
    return max(candidates, key=lambda last: last.finished, default=None)


def _of_job(job: JobRun, finished: datetime) -> LastRun:
    run_status = job.run.status if job.run else None
    return LastRun(
        job.state, job.started_by, finished, job.attempts, job.worker, job.run_id, run_status
    )


def _of_run(run: Run, finished: datetime) -> LastRun:
    """A run started by hand: one attempt, in the process that started it."""
    return LastRun(run.status, run.started_by, finished, 1, "", run.pk, run.status)


def _current(job: JobRun | None, now: datetime) -> CurrentRun | None:
    if job is None:
        return None
    since = job.started if job.state == JobRun.State.RUNNING and job.started else job.queued
    return CurrentRun(job.state, job.started_by, since, since > now)


def next_run(connection: Connection) -> datetime | None:
    """When the scheduler runs the connection next: its `next_run_at`, else the schedule's next
    time (activated, not ticked yet). None when not active or not run by the clock."""
    if connection.state != Connection.State.ACTIVE or not is_clocked(connection.schedule):
        return None
    if connection.next_run_at is not None:
        return connection.next_run_at
    try:
        times = next_run_times(connection.schedule, connection.time_zone, 1)
    except ScheduleError:
        return None  # config load and the console validate schedules; the tick skips this one
    return times[0] if times else None


def _is_on_change(connection: Connection) -> bool:
    is_active = connection.state == Connection.State.ACTIVE
    return is_active and connection.schedule.strip().lower() == ON_CHANGE
