"""After a run: tell each person's open ticket what happened, and what the run's events say."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from hrsync.app import models
from hrsync.app.tickets.desk import EventSink, person_context
from hrsync.app.tickets.outcomes import PersonOutcomes, RunContext, tell_tickets
from hrsync.domain.account import Account
from hrsync.domain.changes import CreateAccount, ManualStep, kind_of
from hrsync.domain.plan import Outcome, Status
from hrsync.engine.plan import MANAGER_UNRESOLVED


def report_outcomes(
    context: RunContext,
    *,
    records: Sequence[models.RunChange],
    outcomes: Sequence[Outcome],
    accounts: Mapping[str, Account],
    focus: Collection[str],
    events: EventSink | None,
) -> None:
    """`accounts`: the accounts read at the start of the run, by person id."""
    username = context.profile.username_attribute
    results = _per_person(records, outcomes, accounts, username)
    tell_tickets(context, results, _open_tickets(context, focus).iterator(500), events)
    if events is not None:
        _fire_change_events(context, results.values(), events)


def report_run_failure(context: RunContext, error: str, focus: Collection[str]) -> None:
    """A run that could not start (target unreachable, refused): every open ticket it was meant
    to act on says so and stays open; the next run retries."""
    results = {
        ticket.person_id: PersonOutcomes(ticket.person, failure=error)
        for ticket in _open_tickets(context, focus)
    }
    tell_tickets(context, results, _open_tickets(context, focus), events=None)


def _open_tickets(context: RunContext, focus: Collection[str]) -> Any:
    tickets = models.Ticket.objects.filter(
        source_id=context.connection.source_id, status__in=models.Ticket.OPEN_STATUSES
    ).select_related("person", "source")
    return tickets.filter(person__person_id__in=list(focus)) if focus else tickets


def _per_person(
    records: Sequence[models.RunChange],
    outcomes: Sequence[Outcome],
    accounts: Mapping[str, Account],
    username: str | None,
) -> dict[int, PersonOutcomes]:
    """Each person's outcomes, with their account's ref and the name they sign in with."""
    results: dict[int, PersonOutcomes] = {}
    for record, outcome in zip(records, outcomes, strict=False):
        person = record.person
        if person is None:
            continue
        result = results.setdefault(person.pk, PersonOutcomes(person))
        result.outcomes.append(outcome)
        account = accounts.get(person.person_id)
        result.ref = outcome.ref or result.ref or (account.ref if account else None)
        change = outcome.change
        if username is None:
            continue
        if isinstance(change, CreateAccount):
            result.username = change.attributes.get(username)
        elif account is not None:
            result.username = account.attributes.get(username)
    return results


def _fire_change_events(
    context: RunContext, results: Iterable[PersonOutcomes], events: EventSink
) -> None:
    for result in results:
        for outcome in result.outcomes:
            if outcome.status is Status.FAILED:
                events.fire(
                    "change.failed",
                    _failed_subject(context, result, outcome),
                    person=result.person,
                    context=_context(context, result, outcome),
                )
            elif _is_manager_unresolved(outcome):
                events.fire(
                    "manager.unresolved",
                    _manager_subject(context, result, outcome),
                    person=result.person,
                    context=_context(context, result, outcome),
                )


def _is_manager_unresolved(outcome: Outcome) -> bool:
    change = outcome.change
    return isinstance(change, ManualStep) and change.reason == MANAGER_UNRESOLVED


def _failed_subject(
    context: RunContext, result: PersonOutcomes, outcome: Outcome
) -> dict[str, object]:
    return {
        "connection": context.connection.key,
        "connection_type": context.connection.kind,
        "run_id": context.run_id,
        "change_kind": kind_of(outcome.change),
        "error": outcome.error,
        "is_transient": outcome.is_transient,
        "employee_number": result.person.employee_number,
        "person_name": result.person.display_name,
        "ticket_id": _open_ticket_id(result.person),
    }


def _manager_subject(
    context: RunContext, result: PersonOutcomes, outcome: Outcome
) -> dict[str, object]:
    detail = outcome.change.detail if isinstance(outcome.change, ManualStep) else {}
    return {
        "connection": context.connection.key,
        "employee_number": result.person.employee_number,
        "person_name": result.person.display_name,
        "manager_name": detail.get("manager_name"),
        "manager_employee_number": detail.get("manager_employee_number"),
        "ticket_id": _open_ticket_id(result.person),
    }


def _context(context: RunContext, result: PersonOutcomes, outcome: Outcome) -> dict[str, object]:
    ticket_id = _open_ticket_id(result.person)
    return {
        "person": person_context(result.person),
        "connection": {"key": context.connection.key, "type": context.connection.kind},
        "outcome": {
            "status": outcome.status.value,
            "error": outcome.error,
            "ref": result.ref,
            "username": result.username,
            "base_dn": context.where,
        },
        "ticket": {"id": ticket_id} if ticket_id else {},
        "run": {"id": context.run_id},
    }


def _open_ticket_id(person: models.Person) -> int | None:
    ticket = (
        models.Ticket.objects.filter(person=person).order_by("-opened").values_list("pk", flat=True)
    )
    return ticket.first()


def run_subject(
    connection: models.Connection,
    run: models.Run,
    *,
    error: str = "",
    reasons: Sequence[str] = (),
    counts: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The subject of the run's own events (run.held, run.failed), which triggers match on."""
    counts = counts or {}
    return {
        "connection": connection.key,
        "connection_type": connection.kind,
        "run_id": run.pk,
        "error": error,
        "reasons": list(reasons),
        **{kind: counts.get(kind, 0) for kind in ("create", "update", "disable", "delete", "move")},
    }


def failure_context(
    connection: models.Connection, run: models.Run, error: str, only: Collection[str]
) -> dict[str, Any]:
    """What a notification about a failed run can say: the error, a hint, and who was waiting."""
    hint = (
        "check that the directory is reachable and the connection's settings; hrsync tries "
        "again on the next run"
    )
    people = list(models.Person.objects.filter(source=connection.source, person_id__in=only)[:6])
    context: dict[str, Any] = {
        "connection": {"key": connection.key, "type": connection.kind},
        "outcome": {"status": "failed", "error": error, "hint": hint},
        "run": {"id": run.pk},
    }
    if len(people) == 1:
        context["person"] = person_context(people[0])
        ticket = people[0].tickets.filter(status__in=models.Ticket.OPEN_STATUSES).first()
        context["ticket"] = {"id": ticket.pk, "title": ticket.title} if ticket else {}
    elif people:
        names = ", ".join(p.display_name for p in people[:5])
        context["person"] = {"name": names + (" and others" if len(people) > 5 else "")}
    return context
