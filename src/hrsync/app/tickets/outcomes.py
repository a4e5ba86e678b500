"""What a connection run did for each person, told on their open ticket; closing when all done."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction

from hrsync.app.models import Connection, Person, Ticket, TicketConnectionState
from hrsync.app.tickets import desk as tickets
from hrsync.app.tickets.desk import EventSink
from hrsync.domain.changes import ManualStep, kind_of
from hrsync.domain.plan import Outcome, Status
from hrsync.domain.profile import TargetProfile
from hrsync.engine.plan import MANAGER_UNRESOLVED, MAPPING_FAILED, NAME_UNAVAILABLE

VERBS = {
    "create": "create the account",
    "update": "update the account",
    "move": "move the account",
    "rename": "rename the account",
    "enable": "enable the account",
    "disable": "disable the account",
    "delete": "delete the account",
    "set_manager": "set the manager",
}


@dataclass
class PersonOutcomes:
    """Everything one run did for one person."""

    person: Person
    outcomes: list[Outcome] = field(default_factory=list)
    ref: str | None = None
    username: str | None = None
    failure: str | None = None
    """The whole run failed before acting on anyone (the target was unreachable or refused)."""


@dataclass(frozen=True)
class RunContext:
    connection: Connection
    run_id: int
    where: str
    """Where the connection's accounts live (AD: the base DN; SCIM: the app's URL)."""
    profile: TargetProfile
    """The target's profile: what refs, the place accounts live and sign-in names are called."""


def tell_tickets(
    context: RunContext,
    results: Mapping[int, PersonOutcomes],
    open_tickets: Iterable[Ticket],
    events: EventSink | None,
) -> None:
    """Comment every open ticket of the persons in the run, record the connection's state on it,
    and close the tickets every connection has now carried out. One transaction per 500 tickets."""
    active = active_connections(context.connection.source_id)
    batch = iter(open_tickets)
    while chunk := list(islice(batch, 500)):
        with transaction.atomic():
            for ticket in chunk:
                result = results.get(ticket.person_id) or PersonOutcomes(ticket.person)
                status = _tell(context, ticket, result, events)
                TicketConnectionState.objects.update_or_create(
                    ticket=ticket, connection=context.connection, defaults={"status": status}
                )
                close_if_done(ticket, events, active)


def _tell(
    context: RunContext, ticket: Ticket, result: PersonOutcomes, events: EventSink | None
) -> str:
    by_status: dict[Status, list[Outcome]] = defaultdict(list)
    for outcome in result.outcomes:
        by_status[outcome.status].append(outcome)
    target = context.profile.label
    if result.failure is not None:
        _comment(context, ticket, _run_failure_text(target, result.failure), once=True)
        return TicketConnectionState.Status.FAILED
    if by_status[Status.APPLIED]:
        _comment(context, ticket, _success_text(context, result, by_status[Status.APPLIED]))
    # A failure or a wait that persists run after run is told once, not on every run.
    for failed in by_status[Status.FAILED]:
        _comment(context, ticket, _failure_text(target, failed), once=True)
    # A skipped change (an approved plan's, whose account moved on) is planned again next run.
    waiting = by_status[Status.DEFERRED] + by_status[Status.SKIPPED]
    for deferred in waiting:
        _comment(context, ticket, _deferred_text(target, deferred), once=True)
    if by_status[Status.FAILED]:
        return TicketConnectionState.Status.FAILED
    if waiting:
        return TicketConnectionState.Status.DEFERRED
    if not result.outcomes:
        tickets.add_event(ticket, f"{target} ({context.connection.key}): nothing to change.")
    return TicketConnectionState.Status.SUCCEEDED


def _success_text(context: RunContext, result: PersonOutcomes, applied: list[Outcome]) -> str:
    done = ", ".join(dict.fromkeys(kind_of(o.change) for o in applied))
    lines = [
        f"{context.profile.label} ({context.connection.key}): done ({done}).",
    ]
    profile = context.profile
    lines.append(f"{profile.where_label}: {context.where}")
    if result.ref:
        lines.append(f"{profile.ref_label}: {result.ref}")
    if result.username and profile.username_attribute:
        lines.append(f"Username ({profile.username_attribute}): {result.username}")
    return "\n".join(lines)


def _failure_text(target: str, outcome: Outcome) -> str:
    verb = VERBS.get(kind_of(outcome.change), kind_of(outcome.change))
    hint = (
        "The directory could not be reached; hrsync tries again on the next run."
        if outcome.is_transient
        else "Check the person's data in HR and the connection's settings; hrsync tries again "
        "on the next run."
    )
    return f"{target}: could not {verb}: {outcome.error}.\nWhat to do: {hint}"


def _run_failure_text(target: str, error: str) -> str:
    return (
        f"{target}: the run could not be carried out: {error}.\nWhat to do: check that the "
        "directory is reachable and the connection's settings (Test connection); hrsync tries "
        "again on the next run, and this ticket stays open until it succeeds."
    )


def _deferred_text(target: str, outcome: Outcome) -> str:
    change = outcome.change
    if isinstance(change, ManualStep) and change.reason == MANAGER_UNRESOLVED:
        name = change.detail.get("manager_name") or "the manager"
        number = change.detail.get("manager_employee_number") or "unknown"
        return (
            f"{target}: the manager must be entered manually: {name} (employee number {number}) "
            "has no account yet. hrsync sets the manager by itself on a later run, once the "
            "manager has an account."
        )
    if isinstance(change, ManualStep) and change.reason == MAPPING_FAILED:
        failed = "\n".join(f"- {name}: {message}" for name, message in change.detail.items())
        return (
            f"{target}: a mapping rule failed for this person, so these attributes are left as "
            f"they are:\n{failed}\nWhat to do: correct the person's data in HR or the "
            "connection's mapping rule (`hrsync mapping test` shows how each value is computed); "
            "the other attributes are kept up to date meanwhile."
        )
    if isinstance(change, ManualStep) and change.reason == NAME_UNAVAILABLE:
        why = "\n".join(f"- {name}: {message}" for name, message in change.detail.items())
        return (
            f"{target}: the account cannot be made yet, a name it needs is missing or taken:\n"
            f"{why}\nWhat to do: correct the person's data in HR (or the user in the app); "
            "hrsync makes the account on the next run once it can."
        )
    return f"{target}: waiting: {outcome.error}. hrsync tries again on the next run."


def active_connections(source_id: int) -> set[str]:
    return set(
        Connection.objects.filter(source_id=source_id, state=Connection.State.ACTIVE).values_list(
            "key", flat=True
        )
    )


def close_if_done(ticket: Ticket, events: EventSink | None, active: set[str] | None = None) -> None:
    """Close when every active connection of the source (`active`, looked up when not given),
    and every connection that acted on the ticket, has succeeded."""
    states = dict(
        TicketConnectionState.objects.filter(ticket=ticket).values_list("connection__key", "status")
    )
    if active is None:
        active = active_connections(ticket.source_id)
    required = set(states) | active
    if not required or any(states.get(key) != "succeeded" for key in required):
        return
    tickets.close(
        ticket,
        f"Closed: every connection has carried out this change ({', '.join(sorted(required))}).",
        events=events,
    )


def _comment(context: RunContext, ticket: Ticket, text: str, *, once: bool = False) -> None:
    if once and ticket.entries.filter(connection=context.connection, text=text).exists():
        return
    tickets.add_comment(
        ticket, text, connection_id=context.connection.pk, details={"run_id": context.run_id}
    )
