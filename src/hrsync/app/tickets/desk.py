"""Tickets: open one per personnel change, comment instead of duplicating, close when done."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any, Protocol

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from hrsync.app.models import Person, PersonnelChange, Source, Ticket, TicketEntry
from hrsync.app.sources.looks import describe_source
from hrsync.app.sources.names import person_names
from hrsync.domain.person_fields import people_referenced, readable_changes


class EventSink(Protocol):
    """Where ticket events go (the trigger dispatcher)."""

    def fire(
        self,
        event: str,
        subject: Mapping[str, Any],
        *,
        ticket: Ticket | None = None,
        person: Person | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None: ...


def open_tickets(
    changes: Iterable[PersonnelChange],
    events: EventSink | None = None,
    people: Mapping[str, Person] | None = None,
) -> None:
    """A ticket per change; a comment with the diff where the person's ticket is still open.

    `people` (person id → row) spares a query per ticket when templates need the manager.
    """
    changes = list(changes)
    if not changes:
        return
    # The assignees come along: each `ticket.updated` subject names its ticket's assignee, which
    # would otherwise cost a query per assigned ticket.
    open_now = Ticket.objects.filter(
        person_id__in=[c.person_id for c in changes], status__in=Ticket.OPEN_STATUSES
    ).select_related("assignee_user", "assignee_group")
    open_by_person = {ticket.person_id: ticket for ticket in open_now.order_by("opened")}
    fresh = [c for c in changes if c.person_id not in open_by_person]
    created = Ticket.objects.bulk_create([_new_ticket(change) for change in fresh])
    # The opening is not stored as an entry: the ticket itself holds when, what and the diff
    # (see `opening_text`), which spares a row per change on a large import.
    again = [c for c in changes if c.person_id in open_by_person]
    names = person_names(set().union(*(people_referenced(c.changed) for c in again)))
    TicketEntry.objects.bulk_create(
        [_changed_again_entry(open_by_person[c.person_id], c, names) for c in again]
    )
    if events is not None:
        for ticket, change in zip(created, fresh, strict=True):
            subject = ticket_subject(ticket, change.person, created=True)
            events.fire(
                "ticket.created",
                subject,
                ticket=ticket,
                person=change.person,
                context=LazyContext(partial(ticket_context, ticket, change.person, people)),
            )
        for change in changes:
            if (still_open := open_by_person.get(change.person_id)) is not None:
                events.fire(
                    "ticket.updated",
                    ticket_subject(still_open, change.person),
                    ticket=still_open,
                    person=change.person,
                    context=LazyContext(partial(ticket_context, still_open, change.person, people)),
                )


def _new_ticket(change: PersonnelChange) -> Ticket:
    person = change.person
    return Ticket(
        source_id=person.source_id,
        person=person,
        change=change,
        kind=change.kind,
        title=f"{change.kind.capitalize()}: {person.display_name} ({person.employee_number})"[:300],
        changed=change.changed,
    )


def opening_text(ticket: Ticket) -> str:
    """The first line of a ticket's timeline: who reported what, with the diff."""
    label = describe_source(ticket.source).label
    names = person_names(people_referenced(ticket.changed), ticket.source_id)
    diff = describe_diff(ticket.changed, names)
    return f"{ticket.kind.capitalize()} reported by {label}.\n{diff}"


def _changed_again_entry(
    ticket: Ticket, change: PersonnelChange, names: Mapping[str, str]
) -> TicketEntry:
    diff = describe_diff(change.changed, names)
    text = f"The information changed in HR ({change.kind}).\n{diff}"
    return TicketEntry(
        ticket=ticket, text=text, details={"changed": change.changed, "change_id": change.pk}
    )


def describe_diff(
    changed: Mapping[str, list[str | None]], names: Mapping[str, str] | None = None
) -> str:
    """One line per field, as people read it: "Title: Ekonom → Controller", "Manager: Anna
    Berg (1002) → Per Ek (1040)" (`names`: person id → name), "Office" for `org.Office`."""
    return "\n".join(
        f"{row.label}: {row.old or '(empty)'} → {row.new or '(empty)'}"
        for row in readable_changes(changed, names)
    )


def add_comment(
    ticket: Ticket,
    text: str,
    *,
    author: User | None = None,
    details: Mapping[str, Any] | None = None,
    connection_id: int | None = None,
) -> TicketEntry:
    """A comment by a user, or by the system when `author` is None."""
    return _save_entry(
        TicketEntry(
            ticket=ticket,
            text=text,
            author_user=author,
            author_name=author.get_username() if author else TicketEntry.SYSTEM,
            details=dict(details or {}),
            connection_id=connection_id,
        )
    )


def add_event(ticket: Ticket, text: str, **details: Any) -> TicketEntry:
    return _save_entry(
        TicketEntry(ticket=ticket, kind=TicketEntry.Kind.EVENT, text=text, details=details)
    )


_BATCH: ContextVar[list[TicketEntry] | None] = ContextVar("hrsync_ticket_entries", default=None)


@contextmanager
def batched_entries() -> Iterator[None]:
    """Inside the block, comments and events are written together when it ends (an import's
    batch: triggers commenting on 500 new tickets make one insert, not 500)."""
    pending: list[TicketEntry] = []
    token = _BATCH.set(pending)
    try:
        yield
    finally:
        _BATCH.reset(token)
    TicketEntry.objects.bulk_create(pending)


def _save_entry(entry: TicketEntry) -> TicketEntry:
    pending = _BATCH.get()
    if pending is None:
        entry.save()
    else:
        pending.append(entry)
    return entry


def assign(ticket: Ticket, user: str | None = None, group: str | None = None) -> str:
    """Assign to a user or a group by name; raises LookupError naming what is unknown."""
    if user:
        ticket.assignee_user = _find(User.objects.filter(username=user), f"user {user!r}")
    if group:
        ticket.assignee_group = _find(Group.objects.filter(name=group), f"group {group!r}")
    ticket.save(update_fields=["assignee_user", "assignee_group", "updated"])
    who = ", ".join(filter(None, [user, group]))
    add_event(ticket, f"Assigned to {who}.")
    return f"assigned to {who}"


def set_priority(ticket: Ticket, priority: str) -> str:
    if priority not in Ticket.Priority.values:
        raise ValueError(f"unknown priority {priority!r}")
    ticket.priority = priority
    ticket.save(update_fields=["priority", "updated"])
    add_event(ticket, f"Priority set to {priority}.")
    return f"priority {priority}"


def close(
    ticket: Ticket, text: str, *, author: User | None = None, events: EventSink | None = None
) -> None:
    """Close with a closing comment; closing twice does nothing."""
    with transaction.atomic():
        if not ticket.is_open:
            return
        add_comment(ticket, text, author=author)
        ticket.status, ticket.closed = Ticket.Status.CLOSED, timezone.now()
        ticket.save(update_fields=["status", "closed", "updated"])
    if events is not None:
        events.fire(
            "ticket.closed",
            ticket_subject(ticket, ticket.person),
            ticket=ticket,
            person=ticket.person,
            context=LazyContext(partial(ticket_context, ticket, ticket.person)),
        )


class LazyContext(Mapping[str, Any]):
    """Template variables built on first use: most events notify nobody, and an import of 10,000
    joiners should not build 10,000 contexts for nothing."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build = build
        self._built: dict[str, Any] | None = None

    def _values(self) -> dict[str, Any]:
        if self._built is None:
            self._built = self._build()
        return self._built

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


def ticket_subject(ticket: Ticket, person: Person, *, created: bool = False) -> dict[str, Any]:
    """The flat fields trigger conditions see for ticket events (`created`: a new ticket)."""
    fields = person.fields
    source: Source = person.source
    return {
        "created": created,
        "source": describe_source(source).trigger_name,
        "source_key": source.key,
        "kind": ticket.kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "ticket_id": ticket.pk,
        "employee_number": person.employee_number,
        "person_name": person.display_name,
        "email": fields.get("email"),
        "company": fields.get("company_name"),
        "title": fields.get("title"),
        "department": fields.get("org.Department"),
        "office": fields.get("org.Office"),
        "employment_type": fields.get("employment_type"),
        "is_external": fields.get("is_external") == "true",
        "changed_fields": sorted(ticket.changed),
        "assignee": _assignee(ticket),
    }


def ticket_context(
    ticket: Ticket, person: Person, people: Mapping[str, Person] | None = None
) -> dict[str, Any]:
    """The nested variables notification templates see."""
    fields = person.fields
    manager_id = fields.get("manager_id")
    manager = (
        people.get(manager_id or "")
        if people is not None
        else Person.objects.filter(source_id=person.source_id, person_id=manager_id).first()
    )
    return {
        "ticket": {
            "id": ticket.pk,
            "kind": ticket.kind,
            "status": ticket.status,
            "title": ticket.title,
        },
        "person": person_context(person),
        "manager": manager_context(manager),
        "changed": {k: {"old": v[0], "new": v[1]} for k, v in ticket.changed.items()},
    }


def person_context(person: Person) -> dict[str, Any]:
    fields = person.fields
    return {
        "name": person.display_name,
        "given_name": fields.get("given_name"),
        "family_name": fields.get("family_name"),
        "employee_number": person.employee_number,
        "email": fields.get("email"),
        "title": fields.get("title"),
        "department": fields.get("org.Department"),
        "office": fields.get("org.Office"),
        "company": fields.get("company_name"),
        "start_date": fields.get("start_date"),
        "end_date": fields.get("end_date"),
    }


def manager_context(manager: Person | None) -> dict[str, Any]:
    if manager is None:
        return {}
    return {
        "name": manager.display_name,
        "email": manager.fields.get("email"),
        "employee_number": manager.employee_number,
    }


def _assignee(ticket: Ticket) -> str | None:
    user, group = ticket.assignee_user, ticket.assignee_group
    return user.get_username() if user else group.name if group else None


def _find(queryset: Any, what: str) -> Any:
    found = queryset.first()
    if found is None:
        raise LookupError(f"unknown {what}")
    return found
