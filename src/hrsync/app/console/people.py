"""People: search by name, employee number or e-mail; a person's HR data, links, tickets, and
"provision now" on one connection or all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from hrsync.app.connection_settings import wiring
from hrsync.app.console.access import actor, role_required
from hrsync.app.console.keyset import pager_context, read_page
from hrsync.app.console.responses import is_htmx, render_page
from hrsync.app.models import Connection, Link, Person
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.security import audit
from hrsync.app.security.roles import Role
from hrsync.app.security.secrets import SecretError
from hrsync.app.sources.looks import describe_source
from hrsync.app.sources.manual import is_manual
from hrsync.app.sources.names import person_names
from hrsync.domain.errors import TargetError
from hrsync.domain.person_fields import people_referenced, readable_changes

TICKET_HISTORY = 50
ALL = "all"
RUN_PROBLEMS = (TargetError, wiring.MissingSecretError, SecretError, ValidationError)
"""What a run may raise with a message meant for an admin (the run records it as failed)."""


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    connection: str
    status: str
    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    reasons: list[str] = field(default_factory=list)


@role_required(Role.VIEWER)
def person_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    source = request.GET.get("source", "").strip()
    page = read_page(find_people(search, source), request.GET.get("before"))
    context = {"people": page.rows, "q": search, "source": source}
    return render_page(
        request, "hrsync/people/list.html", context | pager_context(request.GET, page)
    )


def find_people(search: str, source: str = "") -> QuerySet[Person]:
    """People whose name or e-mail contains `search`, or whose employee number is it."""
    people = Person.objects.select_related("source")
    if source:
        people = people.filter(source__key=source)
    if search:
        people = people.filter(
            Q(display_name__icontains=search)
            | Q(employee_number=search)
            | Q(fields__email__icontains=search)
        )
    return people


@role_required(Role.VIEWER)
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.select_related("source"), pk=pk)
    return render_page(request, "hrsync/people/detail.html", _detail_context(person))


def _detail_context(person: Person, results: list[ProvisionResult] | None = None) -> dict[str, Any]:
    connections = list(Connection.objects.filter(source=person.source).order_by("key"))
    links = {link.connection_id: link for link in Link.objects.filter(person=person)}
    tickets = person.tickets.order_by("-pk")[:TICKET_HISTORY]
    return {
        "person": person,
        "look": describe_source(person.source),
        "is_manual": is_manual(person.source),
        "hr_fields": hr_fields(person.fields),
        "accounts": [(c, links.get(c.pk)) for c in connections],
        "active": [c for c in connections if c.state == Connection.State.ACTIVE],
        "tickets": list(tickets),
        "results": results,
    }


def hr_fields(fields: dict[str, str | None]) -> list[tuple[str, str]]:
    """The person's fields with readable labels, empty ones left out: the manager by name, an
    id beside its named value (`orgid.Office` beside `org.Office`) not shown twice."""
    shown = {name: (None, value) for name, value in sorted(fields.items()) if value}
    names = person_names(people_referenced(shown))
    return [(row.label, row.new or "") for row in readable_changes(shown, names)]


@role_required(Role.OPERATOR)
@require_POST
def person_provision(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.select_related("source"), pk=pk)
    wanted = request.POST.get("connection", ALL)
    active = Connection.objects.filter(source=person.source, state=Connection.State.ACTIVE)
    chosen = list(active if wanted == ALL else active.filter(key=wanted))
    results = [provision(connection.key, person.person_id) for connection in chosen]
    audit.record(
        actor(request),
        "person.provisioned",
        "person",
        person.person_id,
        after={"connections": {r.connection: r.status for r in results}},
        person_id=person.person_id,
    )
    if is_htmx(request):
        context = {"results": results, "person": person}
        return render_page(request, "hrsync/people/provision_result.html", context)
    return render_page(request, "hrsync/people/detail.html", _detail_context(person, results))


def provision(key: str, person_id: str) -> ProvisionResult:
    """One focused run for one person; a failure becomes its result, in words."""
    try:
        summary = run_connection(key, only={person_id}, started_by="person")
    except RUN_PROBLEMS as error:
        return ProvisionResult(key, "failed", error=str(error))
    counts = {"applied": summary.applied, "failed": summary.failed, "deferred": summary.deferred}
    return ProvisionResult(key, summary.status, summary.run_id, counts, reasons=summary.reasons)
