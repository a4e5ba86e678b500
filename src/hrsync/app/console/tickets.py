"""Tickets: the list (source icon, status, kind, search, open filter), one with its timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import Group, User
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from hrsync.app.console.access import actor, role_required
from hrsync.app.console.keyset import pager_context, read_page
from hrsync.app.console.responses import render_page
from hrsync.app.models import Ticket, TicketEntry
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.security import audit
from hrsync.app.security.roles import Role
from hrsync.app.sources.looks import describe_source
from hrsync.app.sources.names import person_names
from hrsync.app.tickets import desk as service
from hrsync.app.triggers import DefaultActions, Dispatcher
from hrsync.domain.person_fields import people_referenced, readable_changes

MAX_COMMENT = 10_000


@dataclass(frozen=True, slots=True)
class TimelineItem:
    kind: str
    author: str
    text: str
    created: datetime
    connection: str = ""


@role_required(Role.VIEWER)
def ticket_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    open_only = request.GET.get("open") == "1"
    page = read_page(find_tickets(search, open_only=open_only), request.GET.get("before"))
    counts = _comment_counts([ticket.pk for ticket in page.rows])
    rows = [(t, describe_source(t.source), counts.get(t.pk, 0)) for t in page.rows]
    context = {"rows": rows, "q": search, "open_only": open_only}
    return render_page(
        request, "hrsync/tickets/list.html", context | pager_context(request.GET, page)
    )


def find_tickets(search: str, *, open_only: bool) -> QuerySet[Ticket]:
    """Tickets whose person's name contains `search` or whose employee number is it."""
    tickets = Ticket.objects.select_related("person", "source", "assignee_user", "assignee_group")
    if open_only:
        tickets = tickets.filter(status__in=Ticket.OPEN_STATUSES)
    if search:
        tickets = tickets.filter(
            Q(person__display_name__icontains=search) | Q(person__employee_number=search)
        )
    return tickets


def _comment_counts(ticket_ids: list[int]) -> dict[int, int]:
    """Counted for one page only: an annotation would count every ticket before paging."""
    rows = (
        TicketEntry.objects.filter(ticket_id__in=ticket_ids, kind=TicketEntry.Kind.COMMENT)
        .values("ticket_id")
        .annotate(count=Count("pk"))
    )
    return {row["ticket_id"]: row["count"] for row in rows}


@role_required(Role.VIEWER)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(
        Ticket.objects.select_related("person", "source", "assignee_user", "assignee_group"),
        pk=pk,
    )
    states = ticket.connection_states.select_related("connection").order_by("connection__key")
    context: dict[str, Any] = {
        "ticket": ticket,
        "look": describe_source(ticket.source),
        "changes": _changed_rows(ticket),
        "timeline": timeline(ticket),
        "states": list(states),
        "priorities": Ticket.Priority.choices,
        "users": User.objects.filter(is_active=True).order_by("username"),
        "groups": Group.objects.order_by("name"),
    }
    return render_page(request, "hrsync/tickets/detail.html", context)


def timeline(ticket: Ticket) -> list[TimelineItem]:
    """The opening event (told from the ticket itself), then every comment and event."""
    opening = TimelineItem("event", TicketEntry.SYSTEM, service.opening_text(ticket), ticket.opened)
    entries = ticket.entries.select_related("connection").order_by("created", "pk")
    return [opening] + [
        TimelineItem(
            entry.kind,
            entry.author_name,
            entry.text,
            entry.created,
            entry.connection.key if entry.connection else "",
        )
        for entry in entries
    ]


def _changed_rows(ticket: Ticket) -> list[tuple[str, str, str]]:
    """Label, old, new per changed field; a manager by name, not by id."""
    names = person_names(people_referenced(ticket.changed), ticket.source_id)
    rows = readable_changes(ticket.changed, names)
    return [(row.label, row.old or "", row.new or "") for row in rows]


def _ticket(pk: int) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("person", "source"), pk=pk)


def _text(request: HttpRequest) -> str:
    return request.POST.get("text", "").strip()[:MAX_COMMENT]


def _back(pk: int) -> HttpResponse:
    return redirect(f"/tickets/{pk}/")


@role_required(Role.OPERATOR)
@require_POST
def ticket_comment(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(pk)
    if not (text := _text(request)):
        messages.error(request, "A comment needs some text.")
        return _back(pk)
    service.add_comment(ticket, text, author=_user(request))
    messages.success(request, "Comment added.")
    return _back(pk)


@role_required(Role.OPERATOR)
@require_POST
def ticket_close(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(pk)
    if not (text := _text(request)):
        messages.error(request, "Closing needs a closing comment.")
        return _back(pk)
    if not ticket.is_open:
        messages.info(request, f"Ticket {pk} was closed already.")
        return _back(pk)
    before = {"status": ticket.status}
    events = Dispatcher.load(DefaultActions(run_connection))
    service.close(ticket, text, author=_user(request), events=events)
    events.flush()
    _audit(request, ticket, "ticket.closed", before, {"status": ticket.status})
    messages.success(request, f"Ticket {pk} closed.")
    return _back(pk)


@role_required(Role.OPERATOR)
@require_POST
def ticket_assign(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(pk)
    user, group = request.POST.get("user") or None, request.POST.get("group") or None
    if not (user or group):
        messages.error(request, "Choose a user or a group.")
        return _back(pk)
    before = {"assignee": assignee_name(ticket)}
    try:
        done = service.assign(ticket, user=user, group=group)
    except LookupError as error:
        messages.error(request, str(error).capitalize())
        return _back(pk)
    _audit(request, ticket, "ticket.assigned", before, {"assignee": assignee_name(ticket)})
    messages.success(request, f"Ticket {pk} {done}.")
    return _back(pk)


@role_required(Role.OPERATOR)
@require_POST
def ticket_priority(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(pk)
    before = {"priority": ticket.priority}
    try:
        service.set_priority(ticket, request.POST.get("priority", ""))
    except ValueError as error:
        messages.error(request, str(error).capitalize())
        return _back(pk)
    _audit(request, ticket, "ticket.priority_set", before, {"priority": ticket.priority})
    messages.success(request, f"Priority of ticket {pk} set to {ticket.priority}.")
    return _back(pk)


def _audit(
    request: HttpRequest,
    ticket: Ticket,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    audit.record_ticket(actor(request), action, ticket, before=before, after=after)


def assignee_name(ticket: Ticket) -> str:
    user, group = ticket.assignee_user, ticket.assignee_group
    return user.get_username() if user else group.name if group else ""


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None
