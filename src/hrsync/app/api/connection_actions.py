"""What is done with a connection: test the target, check its compliance, simulate (the plan
per person), export the plan, run now, preview a schedule, activate and deactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from hrsync.app.api.auth import ADMIN, OPERATOR, VIEWER, actor, needs
from hrsync.app.api.connections import ConnectionDetailOut, TargetStepIn, connection_detail
from hrsync.app.api.errors import ApiError, answers, conflict, failures
from hrsync.app.api.plans import (
    EXPORT_OPENAPI,
    ExportQuery,
    PlanOut,
    PlanQuery,
    export_response,
    plan_page,
)
from hrsync.app.api.running import run_active
from hrsync.app.api.runs import RunOut, run_out
from hrsync.app.api.schemas import CheckOut
from hrsync.app.connection_settings import wiring
from hrsync.app.connections import lifecycle
from hrsync.app.connections.mapping_trial import explain_mapping
from hrsync.app.models import Connection, Run
from hrsync.app.security import audit
from hrsync.app.security.roles import Role

router = Router(tags=["connections"])


class SimulationOut(Schema):
    run: RunOut
    plan: PlanOut = Field(description="The first page of the plan; more at /api/runs/{id}/plan.")


class SchedulePreviewOut(Schema):
    schedule: str = Field(description="The schedule as it would be stored.")
    time_zone: str
    next_runs: list[datetime] = Field(description="The next five run times, in the time zone.")


class ScheduleQuery(Schema):
    schedule: str | None = Field(
        None, max_length=100, description="Cron, 'every 15m from 2026-01-01T06:00' or on-change; "
        "empty: the stored one.",
    )  # fmt: skip


class MappingTestQuery(Schema):
    employee_number: str = Field(min_length=1, max_length=64)


class AttributeOut(Schema):
    attribute: str
    value: str | None = Field(description="What the rule gives this person; null: nothing.")
    rule: str = Field(description="The expression, as written.")
    source: str = Field(description="default or override.")
    fields_read: list[str] = Field(description="The HR fields the rule read.")
    steps: list[str] = Field(description="How the value came about, function by function.")


class MappingExplanationOut(Schema):
    person_id: str
    employee_number: str
    name: str
    account_name: str = Field(
        description="The naming attribute's value (AD: the CN); empty where the target has none."
    )
    container: str = Field(
        description="Where the account goes (AD: the placement rule's OU); empty without one."
    )
    attributes: list[AttributeOut]
    problems: list[str] = Field(description="Rules that failed for this person.")


class ComplianceIn(Schema):
    with_writes: bool = Field(
        False,
        description="Also create, change and delete test users and groups in the app (never "
        "on a production app); read-only checks otherwise.",
    )


class ComplianceCheckOut(Schema):
    name: str = Field(description="scim2-tester's name of the check, e.g. object_creation.")
    title: str
    status: str = Field(description="success, deviation, error, skipped, …")
    reason: str
    resource_type: str | None


class ComplianceOut(Schema):
    compliant: bool
    passed: int
    failed: int
    checks: list[ComplianceCheckOut]


class ActivateIn(Schema):
    schedule: str | None = Field(None, max_length=100, description="Empty: keep the stored one.")


@router.post("/connections/{key}/test", response=answers(CheckOut, 409), **OPERATOR)
def check_connection(request: HttpRequest, key: str) -> dict[str, Any]:
    """Test the stored target settings: bind, read the base DN, find the users OU."""
    connection = _connection(key)
    return _check(connection, dict(connection.settings))


@router.post("/connections/{key}/steps/target/test", response=answers(CheckOut, 409), **ADMIN)
def check_target_settings(request: HttpRequest, key: str, body: TargetStepIn) -> dict[str, Any]:
    """Test entered target settings before saving them (the stored password when none is
    entered). Admins only: it sends the stored password wherever the settings point."""
    return _check(_connection(key), body.values())


@router.post("/connections/{key}/compliance", response=answers(ComplianceOut, 409), **ADMIN)
def check_compliance(request: HttpRequest, key: str, body: ComplianceIn) -> dict[str, Any]:
    """Check the target against its protocol with the stored settings (SCIM: scim2-tester).
    Admins only, audited: the write checks change the app. 409 for a kind without checks."""
    connection = _connection(key)
    try:
        report = lifecycle.check_compliance(
            connection, actor(request), with_writes=body.with_writes
        )
    except (LookupError, wiring.MissingSecretError, ValueError) as error:
        raise conflict(f"compliance was not checked: {error}", code="no_compliance") from error
    return {
        "compliant": report.is_compliant,
        "passed": report.passed,
        "failed": report.failed,
        "checks": list(report.checks),
    }


@router.post("/connections/{key}/simulate", response=answers(SimulationOut, 409), **OPERATOR)
def simulate(request: HttpRequest, key: str, query: Query[PlanQuery]) -> dict[str, Any]:
    """Plan without changing the target. Answers the run (simulated, or failed with its error)
    and the plan's first page; after the last edit, this completes step 5."""
    run = lifecycle.simulate(_connection(key), actor(request))
    run = Run.objects.select_related("connection").get(pk=run.pk)
    return {"run": run_out(run), "plan": plan_page(run, query)}


@router.get("/connections/{key}/plan", response=answers(PlanOut, 409), **VIEWER)
def latest_plan(request: HttpRequest, key: str, query: Query[PlanQuery]) -> dict[str, Any]:
    """The plan of the connection's latest simulation, per person."""
    return plan_page(_latest_simulation(key), query)


@router.get(
    "/connections/{key}/export", response=failures(409), **needs(Role.VIEWER, **EXPORT_OPENAPI)
)
def export_latest_plan(request: HttpRequest, key: str, query: Query[ExportQuery]) -> HttpResponse:
    """The latest simulation's plan as CSV (a row per attribute change) or JSON."""
    return export_response(_latest_simulation(key), query.format, key)


@router.post("/connections/{key}/run", response=answers(RunOut, 409), **OPERATOR)
def run_now(request: HttpRequest, key: str) -> dict[str, Any]:
    """Run an active connection now and wait for it. A plan over the safety thresholds is held
    (approve it at /api/runs/{id}/approve); a target that cannot be reached fails the run."""
    run = run_active(_connection(key), actor(request))
    audit.record(
        actor(request),
        "connection.run",
        "connection",
        key,
        after={"run": run.pk, "status": run.status, "plan": run.plan_counts},
        connection_key=key,
    )
    return run_out(run)


@router.get("/connections/{key}/schedule", response=answers(SchedulePreviewOut), **VIEWER)
def preview_schedule(request: HttpRequest, key: str, query: Query[ScheduleQuery]) -> dict[str, Any]:
    """The next five run times of a schedule, in the connection's time zone, before saving it."""
    connection = _connection(key)
    text = lifecycle.parse_schedule(query.schedule or connection.schedule)
    return {
        "schedule": text,
        "time_zone": connection.time_zone,
        "next_runs": lifecycle.next_runs(connection, text),
    }


@router.get(
    "/connections/{key}/mapping-test",
    response=answers(list[MappingExplanationOut], 409),
    **VIEWER,
)
def mapping_test(
    request: HttpRequest, key: str, query: Query[MappingTestQuery]
) -> list[dict[str, object]]:
    """What the connection's stored rules make of the person with this employee number (one
    item per person: numbers repeat across companies), as `hrsync mapping test --json`; 404
    when the connection's source has no such person."""
    found = explain_mapping(key, query.employee_number)
    if not found:
        number = query.employee_number
        raise ApiError(404, f"no person with employee number {number} in {key}'s source")
    return [item.to_json() for item in found]


@router.post("/connections/{key}/activate", response=answers(ConnectionDetailOut, 409), **ADMIN)
def activate(request: HttpRequest, key: str, body: ActivateIn) -> dict[str, Any]:
    """Save the schedule and activate; refused (409) until a simulation ran after the last
    edit."""
    connection = lifecycle.activate(_connection(key), body.schedule, actor(request))
    return connection_detail(connection)


@router.post("/connections/{key}/deactivate", response=answers(ConnectionDetailOut, 409), **ADMIN)
def deactivate(request: HttpRequest, key: str) -> dict[str, Any]:
    """Stop scheduled runs; the configuration and the schedule are kept."""
    return connection_detail(lifecycle.deactivate(_connection(key), actor(request)))


def _connection(key: str) -> Connection:
    return Connection.objects.select_related("source").get(key=key)


def _check(connection: Connection, values: dict[str, Any]) -> dict[str, Any]:
    result = lifecycle.check_target(connection, values)
    return {"ok": result.is_ok, "message": result.message}


def _latest_simulation(key: str) -> Run:
    run = (
        Run.objects.select_related("connection")
        .filter(connection__key=key, is_simulation=True, status=Run.Status.SIMULATED)
        .order_by("-pk")
        .first()
    )
    if run is None:
        _connection(key)  # 404 for an unknown connection
        raise conflict(f"{key} has no simulation yet: simulate first", code="no_simulation")
    return run
