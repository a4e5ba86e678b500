"""Tickets as plain data for the CLI (and later the API): lists and one ticket with its timeline."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from hrsync.app.models import Ticket, TicketEntry
from hrsync.app.sources.looks import describe_source
from hrsync.app.tickets.desk import opening_text


def list_tickets(*, open_only: bool = False, limit: int = 1000) -> list[dict[str, Any]]:
    """Newest first, with the number of comments each has."""
    tickets = (
        Ticket.objects.select_related("person", "source")
        .annotate(comment_count=Count("entries", filter=Q(entries__kind=TicketEntry.Kind.COMMENT)))
        .order_by("-opened", "-pk")
    )
    if open_only:
        tickets = tickets.filter(status__in=Ticket.OPEN_STATUSES)
    return [_summary(ticket) for ticket in tickets[:limit]]


def show_ticket(ticket_id: int) -> dict[str, Any]:
    """One ticket with every comment and event; raises Ticket.DoesNotExist."""
    ticket = (
        Ticket.objects.select_related("person", "source")
        .annotate(comment_count=Count("entries", filter=Q(entries__kind=TicketEntry.Kind.COMMENT)))
        .get(pk=ticket_id)
    )
    entries = list(ticket.entries.all())
    return _summary(ticket) | {
        "title": ticket.title,
        "priority": ticket.priority,
        "changed": ticket.changed,
        "person": {"name": ticket.person.display_name, **ticket.person.fields},
        "connections": dict(ticket.connection_states.values_list("connection__key", "status")),
        "comments": [_entry(e) for e in entries if e.kind == TicketEntry.Kind.COMMENT],
        "events": [_opening(ticket)]
        + [_entry(e) for e in entries if e.kind == TicketEntry.Kind.EVENT],
    }


def _summary(ticket: Any) -> dict[str, Any]:
    look = describe_source(ticket.source)
    return {
        "id": ticket.pk,
        "entity_type": ticket.entity_type,
        "status": ticket.status,
        "source": look.label,
        "source_key": ticket.source.key,
        "source_icon": look.icon,
        "kind": ticket.kind,
        "employee_number": ticket.person.employee_number,
        "person_name": ticket.person.display_name,
        "opened": ticket.opened.isoformat(),
        "closed": ticket.closed.isoformat() if ticket.closed else None,
        "comment_count": ticket.comment_count,
        "assignee": _assignee(ticket),
    }


def _entry(entry: TicketEntry) -> dict[str, Any]:
    return {"author": entry.author_name, "text": entry.text, "created": entry.created.isoformat()}


def _opening(ticket: Ticket) -> dict[str, Any]:
    created = ticket.opened.isoformat()
    return {"author": TicketEntry.SYSTEM, "text": opening_text(ticket), "created": created}


def _assignee(ticket: Ticket) -> str | None:
    if ticket.assignee_user is not None:
        return ticket.assignee_user.get_username()
    return ticket.assignee_group.name if ticket.assignee_group is not None else None
