"""Tickets: one case per personnel change, with a timeline of comments and events."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from hrsync.app.models.stores import Connection, Person, PersonnelChange, Source


class Ticket(models.Model):
    """Entity type "HR change": opened by an import, commented by every run that acts on it."""

    class Status(models.TextChoices):
        NEW = "new"
        IN_PROGRESS = "in_progress", "in progress"
        WAITING = "waiting"
        RESOLVED = "resolved"
        CLOSED = "closed"

    class Priority(models.TextChoices):
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"
        URGENT = "urgent"

    OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)

    entity_type = models.CharField(max_length=32, default="HR change")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="tickets")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="tickets")
    change = models.ForeignKey(
        PersonnelChange, on_delete=models.SET_NULL, null=True, related_name="tickets"
    )
    kind = models.CharField(max_length=16)
    """joiner, update, mover, leaver, rehire: the nature of the change that opened it."""
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    assignee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignee_group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed: models.JSONField[dict[str, list[str | None]]] = models.JSONField(default=dict)
    """The changed fields, old → new, of the change that opened it (later changes: comments)."""
    opened = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    closed = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class TicketEntry(models.Model):
    """One item of a ticket's timeline: a comment (by a person or the system) or an event."""

    class Kind(models.TextChoices):
        COMMENT = "comment"
        EVENT = "event"

    SYSTEM = "hrsync"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.COMMENT)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(max_length=150, default=SYSTEM)
    """The system, or a user's name (kept when the user is deleted)."""
    text = models.TextField()
    details: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    connection = models.ForeignKey(
        Connection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "pk"]


class TicketConnectionState(models.Model):
    """Where each connection stands with a ticket's change; the ticket closes when all succeeded."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        DEFERRED = "deferred"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="connection_states")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "connection"], name="one_state_per_connection"
            )
        ]
