"""Scheduled work in the database: one row per (job, slot) run exactly once, and per-connection
leases that keep two workers from running the same connection at the same time."""

from __future__ import annotations

from django.db import models


class JobRun(models.Model):
    """One scheduled or queued execution of an import or a connection run.

    The unique (kind, key, scheduled_for) is the exactly-once key: any number of schedulers may try
    to insert a slot, one insert wins. `run`/`source_import` link the record the work produced;
    `Run` stays the record of what a connection run did."""

    class Kind(models.TextChoices):
        IMPORT = "import"
        CONNECTION = "connection"
        CONTRACT = "contract"
        """The pending webhook deliveries of one contract; key "<integration>.<contract id>"."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.SlugField(max_length=64)
    """The source key (import) or the connection key (connection)."""
    scheduled_for = models.DateTimeField()
    started_by = models.CharField(max_length=64, default="schedule")
    """schedule, on-change, trigger or a person; copied to the Run it produces."""
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    """How often it was started."""
    history = models.JSONField(default=list, blank=True)
    """One entry per attempt: attempt, worker, started, finished, outcome, error."""
    created = models.DateTimeField(auto_now_add=True)
    queued = models.DateTimeField()
    """When it is ready to run: its creation, a sweep's re-queue, or when a retry falls due."""
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    run = models.ForeignKey(
        "hrsync.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="job_runs"
    )
    source_import = models.ForeignKey(
        "hrsync.Import", null=True, blank=True, on_delete=models.SET_NULL, related_name="job_runs"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key", "scheduled_for"], name="one_job_run_per_slot"
            )
        ]
        indexes = [
            models.Index(fields=["state", "queued"], name="job_run_queue"),
            # The console's "last run" of a connection: its latest finished JobRun.
            models.Index(fields=["kind", "key", "finished"], name="job_run_last_finished"),
        ]


class Lease(models.Model):
    """Who runs a connection now, until when. Only an expired lease may be taken over."""

    connection_key = models.SlugField(max_length=64, unique=True)
    owner = models.CharField(max_length=200)
    expires = models.DateTimeField()
    heartbeat = models.DateTimeField()
