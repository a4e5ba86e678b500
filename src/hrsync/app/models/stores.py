"""The stores: sources, connections, the person store with its change log, links and runs."""

from __future__ import annotations

from typing import Any

from django.db import models


class Source(models.Model):
    """An HR system hrsync reads. `settings` holds no secrets: the password is either named by
    `password_env` or kept encrypted in `secret` (hrsync.app.security.secrets)."""

    key = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=32)
    settings: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    secret = models.TextField(blank=True)
    """The password, encrypted (MultiFernet); never shown back."""
    schedule = models.CharField(max_length=100, blank=True)
    """Import schedule: a cron expression or "every 15m from 2026-01-01T06:00" (issue 5)."""
    last_slot = models.DateTimeField(null=True, blank=True)
    """The last scheduled slot the scheduler queued (its tick starts counting from here)."""
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key


class Connection(models.Model):
    """Source → target, with its settings and lifecycle state."""

    class State(models.TextChoices):
        DRAFT = "draft"
        SIMULATION = "simulation"
        ACTIVE = "active"
        DEACTIVATED = "deactivated"

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="connections")
    kind = models.CharField(max_length=32)
    settings: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    secret = models.TextField(blank=True)
    """The bind password, encrypted (MultiFernet); never shown back."""
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    step = models.PositiveSmallIntegerField(default=1)
    """The first configuration step not yet done (1 source … 6 schedule and activate)."""
    time_zone = models.CharField(max_length=64, default="Europe/Stockholm")
    schedule = models.CharField(max_length=100, blank=True)
    """A cron expression, "every 15m from 2026-01-01T06:00", or "on-change"."""
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_slot = models.DateTimeField(null=True, blank=True)
    """The last scheduled slot the scheduler queued (its tick starts counting from here)."""
    last_run_at = models.DateTimeField(null=True, blank=True)
    group_marks: models.JSONField[dict[str, str]] = models.JSONField(default=dict, blank=True)
    """Group id → the day hrsync found the group empty, for targets that cannot keep the mark
    on the group itself (SCIM apps; AD keeps it in adminDescription)."""
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key


class Person(models.Model):
    """A person as last imported; `fields` holds `domain.Person.fields()`."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="people")
    person_id = models.CharField(max_length=64)
    employee_number = models.CharField(max_length=64, db_index=True)
    display_name = models.CharField(max_length=512)
    fields: models.JSONField[dict[str, str | None]] = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    first_seen = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "person_id"], name="person_unique_in_source")
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.employee_number})"


class Import(models.Model):
    """One run of a source: what was fetched and what it changed."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="imports")
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True)
    is_full = models.BooleanField(default=False)
    modified_since = models.DateTimeField(null=True)
    status = models.CharField(max_length=16, default="running")
    counts: models.JSONField[dict[str, int]] = models.JSONField(default=dict)
    error = models.TextField(blank=True)


class PersonnelChange(models.Model):
    """The change log (the seed's "FlexLogs"): one row per personnel change an import found."""

    source_import = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="changes")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=16)
    changed: models.JSONField[dict[str, list[str | None]]] = models.JSONField(default=dict)
    is_new = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)


class InvalidRecord(models.Model):
    """A source record set aside by validation, with the reason, for an admin to fix in HR."""

    source_import = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="invalid")
    source_ref = models.CharField(max_length=512)
    reason = models.TextField()
    excerpt = models.TextField(blank=True)


class Link(models.Model):
    """The stored match person ↔ account in one connection's target."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="links")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="links")
    account_id = models.CharField(max_length=128, blank=True)
    ref = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "person"], name="one_link_per_person")
        ]


class Run(models.Model):
    """One execution of a connection: the plan's counts and what became of it."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        HELD = "held"
        SIMULATED = "simulated"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True)
    is_simulation = models.BooleanField(default=False)
    started_by = models.CharField(max_length=64, default="cli")
    """Who or what started it: cli, schedule, on-change, trigger, person."""
    focus: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    """Person ids a focused run was limited to (provision now); empty: everyone in scope."""
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    plan_counts: models.JSONField[dict[str, int]] = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64, blank=True)
    derivations: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    """How the plan computed each attribute (hrsync.domain.lineage): the rules as they were
    when it was made, joined with each change's values to explain it."""
    managed_groups = models.PositiveIntegerField(null=True, blank=True)
    """How many of hrsync's groups the run found: what the safety gate weighed retirements
    against, kept so the plan's diff judges it the same way later."""
    applied = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    deferred = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)


class RunChange(models.Model):
    """One planned change of a run and its outcome (status empty until applied or in simulation)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="changes")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=16)
    ref = models.TextField(blank=True)
    payload: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    status = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
