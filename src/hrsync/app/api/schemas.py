"""Schemas more than one resource answers with."""

from __future__ import annotations

from ninja import Schema

from hrsync.app.keys import KEY_PATTERN

__all__ = ["KEY_PATTERN", "CheckOut"]


class CheckOut(Schema):
    """The outcome of a "Test connection" or "Send test notification"."""

    ok: bool
    message: str
