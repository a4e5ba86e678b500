"""People: search by name, employee number or e-mail; one person's HR data, links per
connection and tickets; provision now on one active connection or all of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hrsync.app.api.auth import OPERATOR, VIEWER, actor
from hrsync.app.api.errors import answers, conflict
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.api.running import run_active
from hrsync.app.api.runs import RunOut, run_out
from hrsync.app.models import Connection, Link, Person, Ticket
from hrsync.app.security import audit

router = Router(tags=["people"])
SHOWN_TICKETS = 50
STARTED_BY = "person"
"""How a run started from a person's page is recorded (Run.started_by)."""


class PersonOut(Schema):
    id: int
    person_id: str = Field(description="The id in the HR source.")
    source: str
    employee_number: str
    name: str
    email: str | None
    title: str | None
    company: str | None


class LinkOut(Schema):
    connection: str
    connection_name: str
    account_id: str
    ref: str = Field(description="The account's ref in the target (AD: its DN).")
    updated: datetime


class PersonTicketOut(Schema):
    id: int
    title: str
    kind: str
    status: str
    opened: datetime


class PersonDetailOut(PersonOut):
    fields: dict[str, str | None] = Field(description="The HR data as last imported.")
    first_seen: datetime
    updated: datetime
    links: list[LinkOut] = Field(description="The person's account in each connection's target.")
    tickets: list[PersonTicketOut] = Field(description=f"The latest {SHOWN_TICKETS}, newest first.")


class PersonPage(Paged):
    items: list[PersonOut]


class PersonQuery(PageQuery):
    q: str | None = Field(None, max_length=200, description="Name, employee number or e-mail.")
    source: str | None = Field(None, max_length=64)


class ProvisionIn(Schema):
    connection: str | None = Field(
        None, max_length=64, description="One active connection; empty: every active one."
    )


class ProvisionOut(Schema):
    runs: list[RunOut] = Field(description="One focused run per connection, finished.")


@router.get("/people", response=answers(PersonPage), **VIEWER)
def list_people(request: HttpRequest, query: Query[PersonQuery]) -> dict[str, Any]:
    """By name."""
    return page(_filtered(query), query, lambda items: [_person(row) for row in items])


@router.get("/people/{person_pk}", response=answers(PersonDetailOut), **VIEWER)
def get_person(request: HttpRequest, person_pk: int) -> dict[str, Any]:
    row = Person.objects.select_related("source").get(pk=person_pk)
    links = Link.objects.filter(person=row).select_related("connection").order_by("connection")
    tickets = Ticket.objects.filter(person=row).order_by("-pk")[:SHOWN_TICKETS]
    return _person(row) | {
        "fields": row.fields,
        "first_seen": row.first_seen,
        "updated": row.updated,
        "links": [
            {
                "connection": link.connection.key,
                "connection_name": link.connection.name,
                "account_id": link.account_id,
                "ref": link.ref,
                "updated": link.updated,
            }
            for link in links
        ],
        "tickets": [
            {"id": t.pk, "title": t.title, "kind": t.kind, "status": t.status, "opened": t.opened}
            for t in tickets.only("title", "kind", "status", "opened")
        ],
    }


@router.post("/people/{person_pk}/provision", response=answers(ProvisionOut, 409), **OPERATOR)
def provision(request: HttpRequest, person_pk: int, body: ProvisionIn) -> dict[str, Any]:
    """Provision this person now: a run limited to them, on one active connection or on every
    active connection fed by their source. Each run's outcome lands on their ticket too."""
    person = Person.objects.select_related("source").get(pk=person_pk)
    connections = Connection.objects.filter(source=person.source).order_by("key")
    if body.connection:
        connections = connections.filter(key=body.connection)
        if not connections.exists():
            raise conflict(f"{body.connection} is not a connection of {person.source.key}")
    else:
        connections = connections.filter(state=Connection.State.ACTIVE)
        if not connections.exists():
            raise conflict(f"no active connection reads {person.source.key}")
    runs = [run_active(c, STARTED_BY, only={person.person_id}) for c in connections]
    audit.record(
        actor(request),
        "person.provisioned",
        "person",
        person.person_id,
        after={"runs": {run.connection.key: [run.pk, run.status] for run in runs}},
        person_id=person.person_id,
    )
    return {"runs": [run_out(run) for run in runs]}


def _filtered(query: PersonQuery) -> QuerySet[Person]:
    rows = Person.objects.select_related("source").defer("content_hash")
    if query.q:
        text = query.q.strip()
        rows = rows.filter(
            Q(display_name__icontains=text)
            | Q(employee_number=text)
            | Q(fields__email__icontains=text)
        )
    if query.source:
        rows = rows.filter(source__key=query.source)
    return rows.order_by("display_name", "pk")


def _person(row: Person) -> dict[str, Any]:
    fields = row.fields
    return {
        "id": row.pk,
        "person_id": row.person_id,
        "source": row.source.key,
        "employee_number": row.employee_number,
        "name": row.display_name,
        "email": fields.get("email"),
        "title": fields.get("title"),
        "company": fields.get("company_name"),
    }
