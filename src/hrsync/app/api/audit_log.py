"""The audit log: every admin action and every applied change, filtered, paged, exported as CSV.

Newest first by (created, id), which the `created` index serves; each filter has an index of its
own (connection, person, actor, action with created). Pages count at most COUNT_CAP events
(hrsync.app.api.paging), so a page of a million-event log reads a page, not the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema

from hrsync.app.api.auth import VIEWER, needs
from hrsync.app.api.csv_export import CSV_OPENAPI, csv_response
from hrsync.app.api.errors import answers, failures
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.models import AuditEvent
from hrsync.app.security.roles import Role

router = Router(tags=["audit"])
COLUMNS = (
    "id", "created", "actor", "action", "object_type", "object_key", "connection_key",
    "person_id", "before", "after", "request_id",
)  # fmt: skip


class AuditEventOut(Schema):
    id: int
    created: datetime
    actor: str = Field(description='A username, or "schedule", "trigger", "person", …')
    action: str = Field(description="e.g. connection.activated, source.updated, change.create")
    object_type: str
    object_key: str
    connection: str
    person_id: str
    before: dict[str, Any]
    after: dict[str, Any]
    request_id: str


class AuditPage(Paged):
    items: list[AuditEventOut]


class AuditFilter(Schema):
    connection: str | None = Field(None, max_length=64)
    person: str | None = Field(None, max_length=64, description="The person id in the source.")
    actor: str | None = Field(None, max_length=150)
    action: str | None = Field(
        None, max_length=64, description="An action, or its kind with a dot: `connection.`."
    )
    object_type: str | None = Field(None, max_length=32)
    created_from: datetime | None = None
    created_to: datetime | None = None


class AuditQuery(AuditFilter, PageQuery):
    pass


@router.get("/audit", response=answers(AuditPage), **VIEWER)
def list_events(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    """Newest first."""
    return page(_filtered(query), query, lambda rows: map(_event, rows))


@router.get("/audit.csv", response=failures(), **needs(Role.VIEWER, **CSV_OPENAPI))
def export_events(request: HttpRequest, query: Query[AuditFilter]) -> StreamingHttpResponse:
    """The filtered log as CSV, newest first, streamed (before and after as JSON)."""
    return csv_response(_csv_rows(_filtered(query)), "hrsync-audit.csv")


def _filtered(query: AuditFilter) -> QuerySet[AuditEvent]:
    rows = AuditEvent.objects.order_by("-created", "-pk")
    exact = {
        "connection_key": query.connection,
        "person_id": query.person,
        "actor": query.actor,
        "object_type": query.object_type,
    }
    rows = rows.filter(**{name: value for name, value in exact.items() if value})
    if query.action:
        is_kind = query.action.endswith(".")
        rows = rows.filter(**{"action__startswith" if is_kind else "action": query.action})
    if query.created_from:
        rows = rows.filter(created__gte=query.created_from)
    if query.created_to:
        rows = rows.filter(created__lt=query.created_to)
    return rows


def _event(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.pk,
        "created": row.created,
        "actor": row.actor,
        "action": row.action,
        "object_type": row.object_type,
        "object_key": row.object_key,
        "connection": row.connection_key,
        "person_id": row.person_id,
        "before": row.before,
        "after": row.after,
        "request_id": row.request_id,
    }


def _csv_rows(rows: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    yield list(COLUMNS)
    for values in rows.values_list(*COLUMNS).iterator(chunk_size=2000):
        pk, created, *middle, before, after, request_id = values
        yield [pk, created.isoformat(), *middle, _json(before), _json(after), request_id]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
