"""What a queued connection JobRun does: run its connection under the lease the worker holds
(registered with hrsync.app.jobs.work)."""

from __future__ import annotations

from hrsync.app import models
from hrsync.app.runs.connection_run import run_connection
from hrsync.domain.errors import TransientError


def run_connection_job(job: models.JobRun) -> None:
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
