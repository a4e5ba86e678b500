"""Event triggers (business rules) and the record of every firing."""

from __future__ import annotations

from typing import Any

from django.db import models


class Trigger(models.Model):
    """When `event` happens and the conditions hold, run the actions in order."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=300, blank=True)
    event = models.CharField(max_length=32)
    match = models.CharField(max_length=3, default="all")
    """all: every condition must hold; any: one is enough."""
    conditions: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list)
    """[{"field": "source", "op": "equals", "value": "FlexHR"}, …]"""
    actions: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list)
    """[{"do": "provision", "connection": "ad"}, {"do": "notify", "channel": "it", …}, …]"""
    order = models.PositiveIntegerField(default=100)
    is_enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class TriggerFiring(models.Model):
    """A trigger whose conditions held for an event: what it did and how each action went."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="firings")
    event = models.CharField(max_length=32)
    subject: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    """The event's fields, as the conditions saw them."""
    results: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list)
    """One entry per action: {"do", "ok", "detail"}."""
    is_ok = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
