"""The audit log: every admin action and applied change, filtered, paged by key, exported as CSV.

Built for a million events: keyset pages (`before=<pk>`), no COUNT, and a CSV export streamed
from a server-side cursor. Every filter is on an indexed column.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from hrsync.app.console.access import role_required
from hrsync.app.console.keyset import pager_context, read_page
from hrsync.app.console.responses import query_with, render_page
from hrsync.app.models import AuditEvent, Person
from hrsync.app.security.roles import Role

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""A cell starting with one of these is run as a formula by spreadsheets (CSV injection)."""
EXPORT_CHUNK = 2000
COLUMNS = (
    "id",
    "created",
    "actor",
    "action",
    "object_type",
    "object_key",
    "connection",
    "person_id",
    "before",
    "after",
    "request_id",
)
KNOWN_ACTIONS = (
    "change.",
    "connection.",
    "source.",
    "trigger.",
    "channel.",
    "token.",
    "ticket.",
    "person.provisioned",
)
"""Suggestions for the kind filter; one ending in "." matches every action it starts."""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    connection: str = ""
    person: str = ""
    actor: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    problems: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: QueryDict) -> AuditFilter:
        values = {name: query.get(name, "").strip()[:200] for name in _FILTERS}
        problems = tuple(
            f"'{values[name]}' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)."
            for name in ("since", "until")
            if values[name] and parse_moment(values[name], end=False) is None
        )
        return cls(**values, problems=problems)

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.connection:
            events = events.filter(connection_key=self.connection)
        if self.person:
            events = events.filter(person_id__in=_person_ids(self.person))
        if self.actor:
            events = events.filter(actor=self.actor)
        if self.action.endswith("."):
            events = events.filter(action__startswith=self.action)
        elif self.action:
            events = events.filter(action=self.action)
        if since := parse_moment(self.since, end=False):
            events = events.filter(created__gte=since)
        if until := parse_moment(self.until, end=True):
            events = events.filter(created__lt=until)
        return events


_FILTERS = ("connection", "person", "actor", "action", "since", "until")


def _person_ids(entered: str) -> list[str]:
    """A person id, or the ids of the people with that employee number."""
    by_number = Person.objects.filter(employee_number=entered).values_list("person_id", flat=True)
    return [entered, *by_number[:20]]


def parse_moment(text: str, *, end: bool) -> datetime | None:
    """A local date or date and time; a bare date as the end of a range includes that whole day."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if end and len(text) <= len("YYYY-MM-DD"):
        moment += timedelta(days=1)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@role_required(Role.VIEWER)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    chosen = AuditFilter.from_query(request.GET)
    page = read_page(chosen.apply(AuditEvent.objects.all()), request.GET.get("before"))
    rows = [(e, describe_values(e.before), describe_values(e.after)) for e in page.rows]
    context = {
        "rows": rows,
        "filter": chosen,
        "known_actions": KNOWN_ACTIONS,
        "export_query": query_with(request.GET, before=None),
    }
    return render_page(
        request, "hrsync/audit/list.html", context | pager_context(request.GET, page)
    )


@role_required(Role.VIEWER)
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    """Every event the filters select, newest first, as CSV streamed row by row."""
    events = AuditFilter.from_query(request.GET).apply(AuditEvent.objects.all()).order_by("-pk")
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="hrsync-audit-{stamp}.csv"'
    # access.role_required types views as returning HttpResponse; Django serves a stream the same.
    return cast(HttpResponse, response)


class _Echo:
    """csv.writer writes into this and gets each line back, to stream it."""

    def write(self, line: str) -> str:
        return line


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events.iterator(chunk_size=EXPORT_CHUNK):
        yield writer.writerow([safe_cell(value) for value in _row(event)])


def _row(event: AuditEvent) -> list[Any]:
    return [
        event.pk,
        timezone.localtime(event.created).isoformat(),
        event.actor,
        event.action,
        event.object_type,
        event.object_key,
        event.connection_key,
        event.person_id,
        _json(event.before),
        _json(event.after),
        event.request_id,
    ]


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else ""


def safe_cell(value: object) -> str:
    """The value as text that a spreadsheet shows instead of running (OWASP: CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def describe_values(values: dict[str, Any]) -> list[tuple[str, str]]:
    """before/after as (key, value) lines for the page."""
    return [(key, _shown(value)) for key, value in values.items()]


def _shown(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)
