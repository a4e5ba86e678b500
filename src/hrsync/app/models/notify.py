"""Notification channels and the delivery log."""

from __future__ import annotations

from typing import Any

from django.db import models


class Channel(models.Model):
    """Where notifications go: e-mail (SMTP), a signed webhook, Teams or Slack incoming webhooks.

    `settings` hold no secrets, only the names of the environment variables that do.
    """

    class Kind(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"
        TEAMS = "teams"
        SLACK = "slack"

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    settings: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    secret = models.TextField(blank=True)
    """A password, webhook secret or chat URL, encrypted (MultiFernet); never shown back."""
    consecutive_failures = models.PositiveIntegerField(default=0)
    suspended_reason = models.TextField(blank=True)
    """Set when the channel kept failing: deliveries stop until an admin resets it."""
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One notification sent (or not) through a channel, with its status and error."""

    class Status(models.TextChoices):
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    template = models.CharField(max_length=64)
    recipients: models.JSONField[list[str]] = models.JSONField(default=list)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
