"""What a queued import JobRun does: import its source (registered with hrsync.app.jobs.work).

A file source (CSV with a pickup folder) imports each new file in its folder instead."""

from __future__ import annotations

from hrsync.app import models
from hrsync.app.connection_settings import wiring
from hrsync.app.imports.source_import import import_source
from hrsync.app.imports.uploads import pick_up


def run_import_job(job: models.JobRun) -> None:
    if wiring.is_file_source(models.Source.objects.get(key=job.key)):
        done = pick_up(job.key)
        job.source_import_id = done[-1].summary.import_id if done else None
        return
    summary = import_source(job.key)
    job.source_import_id = summary.import_id
    # import_source itself queues the source's on-change connections when it found changes.
