"""Who may do what, and what was done: API tokens and the audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the token is shown once, when created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    """The first characters of the token, to tell tokens apart in lists."""
    digest = models.CharField(max_length=64, unique=True)
    """SHA-256 of the token (it is random and long, so no slow hash is needed)."""
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    """Append-only: every admin action and every applied change, with before and after."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150, db_index=True)
    """A username, or "system", "schedule", "trigger"."""
    action = models.CharField(max_length=64, db_index=True)
    """e.g. connection.activated, source.updated, change.applied"""
    object_type = models.CharField(max_length=32)
    object_key = models.CharField(max_length=200, blank=True)
    connection_key = models.CharField(max_length=64, blank=True, db_index=True)
    person_id = models.CharField(max_length=64, blank=True, db_index=True)
    before: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    after: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["action", "created"])]
