"""The audit log: one append-only event per admin action and per applied change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hrsync.app.models import AuditEvent, Ticket

SECRET_KEYS = frozenset({"password", "secret", "token", "url_env_value"})


def record(
    actor: str,
    action: str,
    object_type: str,
    object_key: str = "",
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    connection_key: str = "",
    person_id: str = "",
) -> AuditEvent:
    """Write one event; values under secret-looking keys are masked, never stored."""
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=object_type,
        object_key=object_key,
        connection_key=connection_key,
        person_id=person_id,
        before=_masked(before or {}),
        after=_masked(after or {}),
    )


def record_ticket(
    actor: str,
    action: str,
    ticket: Ticket,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """An action on a ticket, filed under the ticket's person too."""
    person_id = ticket.person.person_id if ticket.person_id else ""
    return record(
        actor, action, "ticket", str(ticket.pk), before=before, after=after, person_id=person_id
    )


def _masked(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: "••••••"
        if key.lower() in SECRET_KEYS
        else _masked(value)
        if isinstance(value, dict)
        else value
        for key, value in values.items()
    }
