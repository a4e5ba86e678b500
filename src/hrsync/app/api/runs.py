"""Runs: list with filters, one run with its outcomes and errors, its plan per person (paged and
exported), and the decision on a held run (approve applies exactly the held plan)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from hrsync.app.api.auth import OPERATOR, VIEWER, actor, needs
from hrsync.app.api.errors import answers, failures
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.api.plans import (
    EXPORT_OPENAPI,
    ExportQuery,
    PlanOut,
    PlanQuery,
    export_response,
    plan_page,
)
from hrsync.app.connections import lifecycle
from hrsync.app.models import Connection, Run, RunChange
from hrsync.app.security.roles import Role

router = Router(tags=["runs"])
SHOWN_ERRORS = 20
RUN_FIELDS = (
    "connection__key", "started", "finished", "is_simulation", "started_by", "focus", "status",
    "plan_counts", "fingerprint", "applied", "failed", "deferred", "error",
)  # fmt: skip


class RunOut(Schema):
    id: int
    connection: str
    started: datetime
    finished: datetime | None
    duration_seconds: float | None
    is_simulation: bool
    started_by: str
    focus: list[str] = Field(description="Person ids a focused run (provision now) was limited to.")
    status: str = Field(description="running, succeeded, failed, held, simulated")
    plan_counts: dict[str, int]
    fingerprint: str
    applied: int
    failed: int
    deferred: int
    error: str


class FailedChangeOut(Schema):
    person_id: str | None
    name: str | None
    kind: str
    ref: str
    error: str


class RunDetailOut(RunOut):
    outcomes: dict[str, int] = Field(description="Changes per outcome (empty key: not applied).")
    errors: list[FailedChangeOut] = Field(description=f"The first {SHOWN_ERRORS} failed changes.")


class RunPage(Paged):
    items: list[RunOut]


class RunQuery(PageQuery):
    connection: str | None = Field(None, max_length=64)
    status: str | None = Field(None, max_length=16)
    is_simulation: bool | None = None
    started_by: str | None = Field(None, max_length=64)
    started_from: datetime | None = None
    started_to: datetime | None = None


class RejectIn(Schema):
    reason: str = Field("", max_length=1000)


@router.get("/runs", response=answers(RunPage), **VIEWER)
def list_runs(request: HttpRequest, query: Query[RunQuery]) -> dict[str, Any]:
    """Newest first."""
    return page(_filtered(query), query, lambda items: [run_out(row) for row in items])


@router.get("/runs/{run_id}", response=answers(RunDetailOut), **VIEWER)
def get_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    run = Run.objects.select_related("connection").get(pk=run_id)
    outcomes = run.changes.values("status").annotate(n=Count("id")).order_by()
    failed = (
        run.changes.filter(status="failed")
        .select_related("person")
        .only("kind", "ref", "error", "person__person_id", "person__display_name")
        .order_by("pk")[:SHOWN_ERRORS]
    )
    return run_out(run) | {
        "outcomes": {row["status"]: row["n"] for row in outcomes},
        "errors": [_failed(change) for change in failed],
    }


@router.get("/runs/{run_id}/plan", response=answers(PlanOut), **VIEWER)
def get_plan(request: HttpRequest, run_id: int, query: Query[PlanQuery]) -> dict[str, Any]:
    """The run's plan per person, with each attribute's old and new value, the counts and the
    safety gate's verdict; filter by change kind and search by name, employee number or account
    reference."""
    return plan_page(Run.objects.select_related("connection").get(pk=run_id), query)


@router.get("/runs/{run_id}/export", response=failures(), **needs(Role.VIEWER, **EXPORT_OPENAPI))
def export_run(request: HttpRequest, run_id: int, query: Query[ExportQuery]) -> HttpResponse:
    run = Run.objects.select_related("connection").get(pk=run_id)
    return export_response(run, query.format, run.connection.key)


@router.post("/runs/{run_id}/approve", response=answers(RunOut, 409, 502), **OPERATOR)
def approve_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    """Apply a held run's plan exactly as it was held (not planned again). The accounts are read
    first: a change whose account changed since the plan was held is skipped, with the reason
    as its error (see the run's plan); the rest are applied. Answers the run that applied it;
    409 when the run is not held (or is being decided), 502 when the target cannot be reached."""
    run = Run.objects.select_related("connection__source").get(pk=run_id)
    applied = lifecycle.approve_run(run, actor(request))
    return run_out(Run.objects.select_related("connection").get(pk=applied.pk))


@router.post("/runs/{run_id}/reject", response=answers(RunOut, 409), **OPERATOR)
def reject_run(request: HttpRequest, run_id: int, body: RejectIn) -> dict[str, Any]:
    """Refuse a held run's plan: nothing is applied, the run reads as failed."""
    run = Run.objects.select_related("connection").get(pk=run_id)
    return run_out(lifecycle.reject_run(run, actor(request), body.reason))


def _filtered(query: RunQuery) -> QuerySet[Run]:
    rows = Run.objects.select_related("connection").only(*RUN_FIELDS).order_by("-pk")
    if query.connection:
        # The connection's id, looked up once, lets the runs' connection index do the work.
        connection_id = Connection.objects.filter(key=query.connection).values("pk")[:1]
        rows = rows.filter(connection_id__in=connection_id)
    if query.status:
        rows = rows.filter(status=query.status)
    if query.is_simulation is not None:
        rows = rows.filter(is_simulation=query.is_simulation)
    if query.started_by:
        rows = rows.filter(started_by=query.started_by)
    if query.started_from:
        rows = rows.filter(started__gte=query.started_from)
    if query.started_to:
        rows = rows.filter(started__lt=query.started_to)
    return rows


def run_out(run: Run) -> dict[str, Any]:
    finished = run.finished
    return {
        "id": run.pk,
        "connection": run.connection.key,
        "started": run.started,
        "finished": finished,
        "duration_seconds": (finished - run.started).total_seconds() if finished else None,
        "is_simulation": run.is_simulation,
        "started_by": run.started_by,
        "focus": run.focus,
        "status": run.status,
        "plan_counts": run.plan_counts,
        "fingerprint": run.fingerprint,
        "applied": run.applied,
        "failed": run.failed,
        "deferred": run.deferred,
        "error": run.error,
    }


def _failed(change: RunChange) -> dict[str, Any]:
    person = change.person
    return {
        "person_id": person.person_id if person else None,
        "name": person.display_name if person else None,
        "kind": change.kind,
        "ref": change.ref,
        "error": change.error,
    }
