"""What a queued import JobRun does: import its source (registered with hrsync.app.jobs.work)."""

from __future__ import annotations

from hrsync.app import models
from hrsync.app.imports.source_import import import_source


def run_import_job(job: models.JobRun) -> None:
    summary = import_source(job.key)
    job.source_import_id = summary.import_id
    # import_source itself queues the source's on-change connections when it found changes.
