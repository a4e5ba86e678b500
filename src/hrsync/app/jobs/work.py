"""The worker step: run one queued JobRun under the lease of its connection (or source), with
retries for transient failures, and record each attempt on it.

What a JobRun of each kind does is registered by the package that owns the work (imports and
runs: see `register_work` and hrsync.app.apps); those packages queue and lease through this one,
so it cannot import them.
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
from django.db.models import F
from django.utils import timezone

from hrsync.app import models
from hrsync.app.jobs.leases import acquire_lease, heartbeat, lease_ttl, release_lease
from hrsync.domain.errors import SourceUnavailableError, TransientError

log = structlog.get_logger(__name__)

CLAIM_WINDOW = 50
"""How many of the oldest queued JobRuns a worker looks at to find one it may run."""

Kind = models.JobRun.Kind
State = models.JobRun.State


# --- the work of each kind ---------------------------------------------------------------------

JobWork = Callable[[models.JobRun], None]
"""Does the work of a JobRun: notes on it what it made (its Run or Import) and raises when it
failed (a transient error to be retried, anything else to fail the JobRun)."""

_WORK: dict[str, JobWork] = {}


def register_work(kind: str, work: JobWork) -> None:
    """Name what a JobRun of `kind` does; hrsync.app.apps registers the import and the run."""
    _WORK[kind] = work


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


def lease_name(job: models.JobRun) -> str:
    """Connections lease by their key; imports by "import:<source key>"; contracts by
    "contract:<integration>.<contract id>" (one step at a time per contract)."""
    if job.kind == Kind.CONTRACT:
        return f"contract:{job.key}"
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
        with structlog.contextvars.bound_contextvars(job_run=job.pk):
            _WORK[job.kind](job)
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
    job.history = [*job.history, history_entry(job, worker, finished, error, retry_at)]
    job.save()
    bound.info("job finished", state=job.state, attempt=job.attempts, error=job.error or None)


def history_entry(
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
        "error_class": "" if error is None or isinstance(error, str) else type(error).__name__,
        "transient": isinstance(error, str) or is_transient(error),
        "retry_at": retry_at.isoformat() if retry_at else None,
    }


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__


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
