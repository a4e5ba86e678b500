"""Schemas more than one resource answers with."""

from __future__ import annotations

from ninja import Schema

KEY_PATTERN = r"^[-a-zA-Z0-9_]+$"
"""A source's or connection's key, a trigger's or channel's name: a slug."""


class CheckOut(Schema):
    """The outcome of a "Test connection" or "Send test notification"."""

    ok: bool
    message: str
