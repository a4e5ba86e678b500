"""Files given to a CSV source: kept from upload (or pickup) until confirmed or expired."""

from __future__ import annotations

from typing import Any

from django.db import models

from hrsync.app.models.stores import Import, Source


class SourceUpload(models.Model):
    """One file for a file source. An upload is previewed first and recorded only on
    confirmation; `checksum` (SHA-256 of the bytes) binds the confirmation to the file that was
    previewed, and lets a pickup take each file once."""

    class Status(models.TextChoices):
        PENDING = "pending"
        """Previewed, waiting for an operator to confirm (or held by the shrink guard)."""
        CONFIRMING = "confirming"
        """Being recorded now: a second confirmation at the same time is refused."""
        CONFIRMED = "confirmed"
        EXPIRED = "expired"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="uploads")
    file_name = models.CharField(max_length=255)
    checksum = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    mode = models.CharField(max_length=16)
    content = models.BinaryField(default=b"")
    """The file until it is confirmed or expires; emptied then."""
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    origin = models.CharField(max_length=16, default="upload")
    """upload (console, API, CLI) or pickup (the source's folder)."""
    uploaded_by = models.CharField(max_length=150)
    created = models.DateTimeField(auto_now_add=True)
    preview: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    """The counts and dialect the preview showed."""
    confirmed_by = models.CharField(max_length=150, blank=True)
    confirmed = models.DateTimeField(null=True, blank=True)
    source_import = models.ForeignKey(
        Import, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )

    def __str__(self) -> str:
        return f"{self.source.key}/{self.file_name} ({self.status})"
