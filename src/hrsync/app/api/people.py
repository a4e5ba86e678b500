"""People: search by name, employee number or e-mail; one person's HR data, links per
connection and tickets; provision now on one active connection or all of them; add and edit
manual people (admins), whom no HR system holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from hrsync.app.api.auth import ADMIN, OPERATOR, VIEWER, actor
from hrsync.app.api.errors import ApiError, answers, conflict
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.api.running import run_active
from hrsync.app.api.runs import RunOut, run_out
from hrsync.app.imports.manual_people import (
    ManualPersonError,
    NotManualError,
    SavedPerson,
    add_manual_person,
    edit_manual_person,
    values_of,
)
from hrsync.app.models import Connection, Link, Person, Ticket
from hrsync.app.security import audit
from hrsync.app.sources.manual import is_manual
from hrsync.domain.ids import PersonId
from hrsync.domain.person import person_from_fields

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
    is_manual: bool = Field(description="Added by hand (the source `manual`), not imported.")


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


MANUAL_TEXT = 300
"""Longer values are refused by the schema; the field rules (at most 256) say the rest."""


def _manual_field(description: str) -> Any:
    return Field(None, max_length=MANUAL_TEXT, description=description)


class ManualPersonIn(Schema):
    """A manual person's fields: each checked by the rules imported persons get; an empty
    string or null leaves it empty. Given name, family name and employee number are required."""

    given_name: str | None = _manual_field("Required.")
    family_name: str | None = _manual_field("Required.")
    employee_number: str | None = _manual_field("Required; unique among manual people.")
    email: str | None = _manual_field("The work e-mail address.")
    phone: str | None = _manual_field("")
    mobile: str | None = _manual_field("")
    title: str | None = _manual_field("")
    company: str | None = _manual_field("The company's name.")
    start_date: str | None = _manual_field("YYYY-MM-DD.")
    end_date: str | None = _manual_field("YYYY-MM-DD: a leaver on that day.")
    manager: str | None = _manual_field("Another person: their person id or employee number.")
    office: str | None = _manual_field("Organisation level Office.")
    department: str | None = _manual_field("Organisation level Department.")
    employment_type: str | None = _manual_field(
        "E.g. Konsult; an external type (as Flex HRM's defaults say) marks the person external."
    )


class ManualPersonPatch(ManualPersonIn):
    """Only the fields sent change; null or "" clears one (not the required ones)."""


class ManualSavedOut(Schema):
    person: PersonOut
    values: dict[str, str | None] = Field(description="The manual person's fields as stored.")
    change: str | None = Field(
        description="The personnel change recorded (joiner, update, mover, leaver, rehire); "
        "null when nothing changed."
    )
    change_id: int | None
    ticket: int | None = Field(description="The ticket the change opened or commented.")


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


@router.post("/people", response=answers(ManualSavedOut, status=201), **ADMIN)
def add_person(request: HttpRequest, body: ManualPersonIn) -> Status[dict[str, Any]]:
    """Add a manual person (the source `manual`) for staff no HR system holds. It goes through
    the import's pipeline: a joiner in the change log, a ticket, triggers, on-change runs."""
    try:
        saved = add_manual_person(body.model_dump(), actor(request))
    except ManualPersonError as error:
        raise _invalid(error) from error
    return Status(201, _saved(saved))


@router.patch("/people/{person_pk}", response=answers(ManualSavedOut, 409), **ADMIN)
def edit_person(request: HttpRequest, person_pk: int, body: ManualPersonPatch) -> dict[str, Any]:
    """Change a manual person's fields; an end date makes them a leaver on that day. Imported
    people answer 409: the HR system holds them."""
    row = Person.objects.select_related("source").get(pk=person_pk)
    try:
        saved = edit_manual_person(row, body.model_dump(exclude_unset=True), actor(request))
    except NotManualError as error:
        raise conflict(str(error), code="not_manual") from error
    except ManualPersonError as error:
        raise _invalid(error) from error
    return _saved(saved)


def _invalid(error: ManualPersonError) -> ApiError:
    return ApiError(422, str(error), code="invalid_values", details=error.errors)


def _saved(saved: SavedPerson) -> dict[str, Any]:
    row, change = saved.row, saved.change
    return {
        "person": _person(row),
        "values": values_of(person_from_fields(PersonId(row.person_id), row.fields)),
        "change": change.kind if change else None,
        "change_id": change.pk if change else None,
        "ticket": saved.ticket.pk if saved.ticket else None,
    }


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
        "is_manual": is_manual(row.source),
    }
