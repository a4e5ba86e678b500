"""Tickets: the list (search, status, open), one ticket with its timeline, and what an operator
does with one: comment, close, assign, set the priority."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.templatetags.static import static
from ninja import Field, Query, Router, Schema

from hrsync.app.api.auth import OPERATOR, VIEWER, actor, signed_in
from hrsync.app.api.errors import ApiError, answers, conflict
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.models import Ticket, TicketEntry
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.security import audit
from hrsync.app.sources.looks import describe_source
from hrsync.app.tickets.desk import add_comment, assign, close, set_priority
from hrsync.app.tickets.listing import show_ticket
from hrsync.app.triggers import DefaultActions, Dispatcher

router = Router(tags=["tickets"])
LIST_FIELDS = (
    "title", "status", "priority", "kind", "entity_type", "opened", "closed", "updated",
    "source__key", "source__kind", "person__id", "person__employee_number",
    "person__display_name", "assignee_user__username", "assignee_group__name",
)  # fmt: skip


class TicketOut(Schema):
    id: int
    title: str
    entity_type: str
    status: str = Field(description="new, in_progress, waiting, resolved, closed")
    priority: str
    kind: str = Field(description="joiner, update, mover, leaver, rehire")
    source: str = Field(description="The HR system's name, e.g. Flex HRM.")
    source_key: str
    source_icon: str = Field(description="URL of the source's icon.")
    person_pk: int = Field(description="The person at /api/people/{person_pk}.")
    employee_number: str
    person_name: str
    opened: datetime
    closed: datetime | None
    comment_count: int
    assignee: str | None


class EntryOut(Schema):
    author: str
    text: str
    created: datetime


class TicketDetailOut(TicketOut):
    changed: dict[str, list[str | None]] = Field(description="field: [old, new]")
    person: dict[str, Any] = Field(description="The person's HR data as last imported.")
    connections: dict[str, str] = Field(description="Where each connection stands with it.")
    comments: list[EntryOut]
    events: list[EntryOut]


class TicketPage(Paged):
    items: list[TicketOut]


class TicketQuery(PageQuery):
    q: str | None = Field(None, max_length=200, description="Title words or employee number.")
    status: str | None = Field(None, max_length=16)
    is_open: bool | None = Field(None, description="Only open (new, in progress, waiting) ones.")
    source: str | None = Field(None, max_length=64)
    kind: str | None = Field(None, max_length=16)


class TextIn(Schema):
    text: str = Field(min_length=1, max_length=10_000)


class AssignIn(Schema):
    user: str | None = Field(None, max_length=150)
    group: str | None = Field(None, max_length=150)


class PriorityIn(Schema):
    priority: Literal["low", "normal", "high", "urgent"]


@router.get("/tickets", response=answers(TicketPage), **VIEWER)
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> dict[str, Any]:
    """Newest first."""
    return page(_filtered(query), query, _summaries)


@router.get("/tickets/{ticket_id}", response=answers(TicketDetailOut), **VIEWER)
def get_ticket(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    """One ticket with its comments and events (the opening first)."""
    return _detail(ticket_id)


@router.post("/tickets/{ticket_id}/comments", response=answers(TicketDetailOut), **OPERATOR)
def comment(request: HttpRequest, ticket_id: int, body: TextIn) -> dict[str, Any]:
    ticket = Ticket.objects.get(pk=ticket_id)
    entry = add_comment(ticket, body.text, author=signed_in(request))
    _audit(request, "ticket.commented", ticket, {"comment": entry.pk, "text": body.text})
    return _detail(ticket_id)


@router.post("/tickets/{ticket_id}/close", response=answers(TicketDetailOut, 409), **OPERATOR)
def close_ticket(request: HttpRequest, ticket_id: int, body: TextIn) -> dict[str, Any]:
    """Close with a closing comment; triggers on ticket.closed fire."""
    ticket = Ticket.objects.select_related("person__source").get(pk=ticket_id)
    if not ticket.is_open:
        raise conflict(f"ticket #{ticket_id} is {ticket.status} already", code="not_open")
    before = {"status": ticket.status}
    events = Dispatcher.load(DefaultActions(run_connection))
    close(ticket, body.text, author=signed_in(request), events=events)
    events.flush()
    _audit(request, "ticket.closed", ticket, {"status": ticket.status}, before=before)
    return _detail(ticket_id)


@router.post("/tickets/{ticket_id}/assign", response=answers(TicketDetailOut), **OPERATOR)
def assign_ticket(request: HttpRequest, ticket_id: int, body: AssignIn) -> dict[str, Any]:
    """Assign to a user, a group, or both (by name); an unknown name answers 400."""
    if not (body.user or body.group):
        raise ApiError(422, "name a user, a group or both", code="invalid_values")
    ticket = Ticket.objects.select_related("assignee_user", "assignee_group").get(pk=ticket_id)
    before = {"user": _name(ticket.assignee_user), "group": _name(ticket.assignee_group)}
    assign(ticket, user=body.user, group=body.group)
    after = {"user": _name(ticket.assignee_user), "group": _name(ticket.assignee_group)}
    _audit(request, "ticket.assigned", ticket, after, before=before)
    return _detail(ticket_id)


@router.post("/tickets/{ticket_id}/priority", response=answers(TicketDetailOut), **OPERATOR)
def prioritise(request: HttpRequest, ticket_id: int, body: PriorityIn) -> dict[str, Any]:
    ticket = Ticket.objects.get(pk=ticket_id)
    before = {"priority": ticket.priority}
    set_priority(ticket, body.priority)
    _audit(request, "ticket.priority_set", ticket, {"priority": body.priority}, before=before)
    return _detail(ticket_id)


def _filtered(query: TicketQuery) -> QuerySet[Ticket]:
    # Newest first by primary key: it follows `opened` and has an index; `opened` has none.
    rows = Ticket.objects.select_related(
        "source", "person", "assignee_user", "assignee_group"
    ).only(*LIST_FIELDS)
    if query.q:
        rows = rows.filter(Q(title__icontains=query.q) | Q(person__employee_number=query.q))
    if query.status:
        rows = rows.filter(status=query.status)
    if query.is_open is not None:
        is_open = Q(status__in=Ticket.OPEN_STATUSES)
        rows = rows.filter(is_open if query.is_open else ~is_open)
    if query.source:
        rows = rows.filter(source__key=query.source)
    if query.kind:
        rows = rows.filter(kind=query.kind)
    return rows.order_by("-pk")


def _summaries(tickets: list[Ticket]) -> list[dict[str, Any]]:
    """The page's tickets with their comment counts, counted in one query for the page."""
    counts = dict(
        TicketEntry.objects.filter(
            ticket_id__in=[t.pk for t in tickets], kind=TicketEntry.Kind.COMMENT
        )
        .values_list("ticket_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [_summary(ticket, counts.get(ticket.pk, 0)) for ticket in tickets]


def _summary(ticket: Ticket, comment_count: int) -> dict[str, Any]:
    look = describe_source(ticket.source)
    person = ticket.person
    return {
        "id": ticket.pk,
        "title": ticket.title,
        "entity_type": ticket.entity_type,
        "status": ticket.status,
        "priority": ticket.priority,
        "kind": ticket.kind,
        "source": look.label,
        "source_key": ticket.source.key,
        "source_icon": static(look.icon),
        "person_pk": person.pk,
        "employee_number": person.employee_number,
        "person_name": person.display_name,
        "opened": ticket.opened,
        "closed": ticket.closed,
        "comment_count": comment_count,
        "assignee": _name(ticket.assignee_user) or _name(ticket.assignee_group),
    }


def _detail(ticket_id: int) -> dict[str, Any]:
    shown = show_ticket(ticket_id)
    ticket = Ticket.objects.select_related(
        "source", "person", "assignee_user", "assignee_group"
    ).get(pk=ticket_id)
    return _summary(ticket, shown["comment_count"]) | {
        key: shown[key] for key in ("changed", "person", "connections", "comments", "events")
    }


def _name(holder: Any) -> str | None:
    if holder is None:
        return None
    return str(holder.get_username() if hasattr(holder, "get_username") else holder.name)


def _audit(
    request: HttpRequest,
    action: str,
    ticket: Ticket,
    after: dict[str, Any],
    *,
    before: dict[str, Any] | None = None,
) -> None:
    audit.record_ticket(actor(request), action, ticket, before=before, after=after)
