"""A step that failed for good lands on the employee's ticket, where HR already looks: a comment
on the person's open ticket, or a new ticket when none is open. Only when hrsync holds the
person (by employment number, in the integration's source): a contract about someone hrsync has
not imported has no ticket to go on, and the console page and the notification still tell."""

from __future__ import annotations

from hrsync.app.models import Contract, Person, Ticket
from hrsync.app.security import audit
from hrsync.app.tickets import desk
from hrsync.app.tickets.desk import EventSink

ACTOR = "oneflow"
KIND = "contract"


def tell_employee_ticket(
    contract: Contract, step: str, reason: str, what_to_do: str, events: EventSink
) -> Ticket | None:
    """The ticket commented on, or None when hrsync does not hold the employee."""
    if not contract.employee_number:
        return None
    person = Person.objects.filter(
        source_id=contract.integration.source_id, employee_number=contract.employee_number
    ).first()
    if person is None:
        return None
    ticket = (
        Ticket.objects.filter(person=person, status__in=Ticket.OPEN_STATUSES)
        .order_by("opened")
        .first()
    )
    created = ticket is None
    if ticket is None:
        title = f"Contract: {person.display_name} ({person.employee_number})"
        ticket = Ticket.objects.create(
            source_id=person.source_id, person=person, kind=KIND, title=title[:300]
        )
    what = contract.name or f"contract {contract.contract_id}"
    text = (
        f"Oneflow {what}: the step {step} failed: {reason}\nWhat to do: {what_to_do}\n"
        f"See /integrations/{contract.integration.key}/contracts/{contract.contract_id}/"
    )
    details = {"integration": contract.integration.key, "contract_id": contract.contract_id,
               "step": step}  # fmt: skip
    desk.add_comment(ticket, text, details=details)
    audit.record_ticket(ACTOR, "ticket.opened" if created else "ticket.commented", ticket,
                        after={"step": step, "contract_id": contract.contract_id})  # fmt: skip
    subject = desk.ticket_subject(ticket, person, created=created)
    events.fire("ticket.created" if created else "ticket.updated", subject,
                ticket=ticket, person=person)  # fmt: skip
    return ticket
