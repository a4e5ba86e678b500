"""What runs the queue: Huey consumers executing JobRun ids, and the scheduler loop.

Three ways to run them, one code path:

- `hrsync serve`: the console, the scheduler loop and a few worker threads in one process
  (`Background`), the queue in a SQLite file — nothing else to install;
- `hrsync worker`: a consumer with any number of worker threads or processes, on any machine;
- `hrsync scheduler`: the scheduler loop alone. Any number may run: the tick's exactly-once key
  and the sweep's conditional updates make a second scheduler harmless.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from django import db
from django.utils import timezone
from huey.consumer import Consumer

from hrsync.app import models
from hrsync.app.jobs import queue as job_queue
from hrsync.app.jobs import scheduler

log = structlog.get_logger(__name__)

SCHEDULER_INTERVAL = 5.0
"""Seconds between scheduler steps: a one-minute schedule starts within this of its slot."""
SHUTDOWN_TIMEOUT = 60.0
"""How long a graceful stop waits for running jobs; one still running then is interrupted, its
lease expires and the sweeper gives it to another worker."""
POLL_MAX_DELAY = 1.0
"""The longest a worker sleeps between looks at an empty queue (Huey backs off up to this)."""


# --- the scheduler loop ------------------------------------------------------------------------


@dataclass(slots=True)
class Step:
    """One scheduler step: what the sweep sent again and what the tick queued."""

    at: datetime
    requeued: list[models.JobRun] = field(default_factory=list)
    queued: list[models.JobRun] = field(default_factory=list)


def scheduler_step(now: datetime | None = None) -> Step:
    """Sweep, then tick. The tick's new JobRuns reach the queue as their inserts commit; the
    sweep's re-queued ones are sent here."""
    moment = now or timezone.now()
    step = Step(moment, requeued=scheduler.sweep(moment))
    job_queue.send([job.pk for job in step.requeued])
    step.queued = scheduler.tick(moment)
    return step


Clock = Callable[[], datetime]


def run_scheduler(
    stop: threading.Event, interval: float = SCHEDULER_INTERVAL, clock: Clock = timezone.now
) -> None:
    """Step every `interval` seconds until `stop` is set. A failing step (the database away) is
    logged and the loop goes on. `clock` tells the scheduler's time (tests speed it up)."""
    log.info("scheduler started", interval=interval)
    while not stop.is_set():
        try:
            step = scheduler_step(clock())
            if step.queued or step.requeued:
                log.info("scheduler step", queued=len(step.queued), requeued=len(step.requeued))
        except Exception as error:  # the loop outlives a failing step
            log.warning("scheduler step failed", error=str(error))
        finally:
            db.close_old_connections()
        stop.wait(_until_next_step(interval))
    db.connections.close_all()
    log.info("scheduler stopped")


STEP_MARGIN = 0.05
"""Seconds a step waits past the boundary: a wait timed on the monotonic clock may end a hair
before the wall clock's :00, and a step then would find the slot not yet due."""


def _until_next_step(interval: float) -> float:
    """Seconds to just past the next whole multiple of `interval` on the wall clock (at least a
    tenth of the interval away): slots fall on whole minutes, so steps at :00, :05, … queue
    them at once instead of up to an interval late."""
    wait = interval - time.time() % interval
    return (wait if wait >= interval / 10 else wait + interval) + STEP_MARGIN


# --- consumers ---------------------------------------------------------------------------------


def consumer(workers: int, worker_type: str = "thread") -> Consumer:
    """A Huey consumer of the job queue: `workers` threads or processes."""
    huey = job_queue.get_huey()
    job_queue.run_job_task()  # registers the task this consumer runs
    if worker_type == "process":
        db.connections.close_all()  # forked workers must not share the parent's connections
    return Consumer(
        huey,
        workers=workers,
        periodic=False,
        worker_type=worker_type,
        max_delay=POLL_MAX_DELAY,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        graceful_signal="TERM",  # systemd's stop signal lets running jobs finish; SIGINT too
    )


class Background:
    """The scheduler loop and worker threads inside another program (`hrsync serve`)."""

    def __init__(
        self,
        workers: int = 2,
        interval: float = SCHEDULER_INTERVAL,
        clock: Clock = timezone.now,
        schedulers: int = 1,
    ) -> None:
        self._consumer = consumer(workers)
        self._stop = threading.Event()
        self._schedulers = [
            threading.Thread(
                target=run_scheduler,
                args=(self._stop, interval, clock),
                name=f"hrsync-scheduler-{n}",
                daemon=True,
            )
            for n in range(1, schedulers + 1)
        ]

    def start(self) -> None:
        # Consumer.start() would also take over SIGINT/SIGTERM, which the host program owns.
        self._consumer.scheduler.start()
        for _, thread in self._consumer.worker_threads:
            thread.start()
        for thread in self._schedulers:
            thread.start()

    def stop(self) -> None:
        """Stop taking work; wait for running jobs to finish (up to the consumer's timeout)."""
        self._stop.set()
        self._consumer.stop(graceful=True)
        for thread in self._schedulers:
            thread.join()
