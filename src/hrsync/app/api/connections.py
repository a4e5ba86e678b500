"""Connections: the table (search, state, source, target, last and next sync), one connection
with its step progress, creating one and saving its configuration steps, deleting one.

Every change goes through hrsync.app.connections.lifecycle, which validates, resets the progress
when an earlier step is edited, and writes the audit event.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

import pydantic
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from hrsync.app.api.auth import ADMIN, VIEWER, actor
from hrsync.app.api.errors import answers
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.api.schemas import KEY_PATTERN
from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.policies import person_id_attribute
from hrsync.app.connection_settings.steps import STEPS, ScopeStep, SourceStep, default_mapping
from hrsync.app.connections import lifecycle
from hrsync.app.connections.run_times import RunTimes, run_times
from hrsync.app.models import Connection
from hrsync.app.sources.looks import describe_source

router = Router(tags=["connections"])
ORDERS = {
    "key": ("key",),
    "name": ("name", "key"),
    "last_sync": ("-last_run_at", "key"),
    "next_sync": ("next_run_at", "key"),
}
LIST_FIELDS = (
    "key", "name", "kind", "state", "step", "settings", "schedule", "time_zone", "last_run_at",
    "next_run_at", "source__key", "source__kind",
)  # fmt: skip


class LastRunOut(Schema):
    state: str = Field(
        description="How it ended: done, failed, … (a run started by hand: its run status)."
    )
    started_by: str = Field(description="schedule, on-change, trigger, cli or a user name.")
    finished: datetime
    attempts: int = Field(description="How often it was started.")
    worker: str = Field(description="The worker that ran it; empty for a run started by hand.")
    run_id: int | None = Field(description="The run it produced (GET /api/runs/{id}).")
    run_status: str | None = Field(description="That run's status: succeeded, held, failed, …")


class CurrentRunOut(Schema):
    state: str = Field(description="queued, running, …")
    started_by: str
    since: datetime = Field(
        description="When it started (running) or is ready to run (queued); later than now "
        "for a retry that waits for its time."
    )


class ConnectionOut(Schema):
    key: str
    name: str
    state: str = Field(description="draft, simulation, active, deactivated")
    source: str
    source_label: str = Field(description="The HR system: Flex HRM, …")
    kind: str = Field(description="The target type: active_directory, …")
    domain: str = Field(description="The target's domain or tenant (AD: the UPN suffix).")
    step: int = Field(description="The first configuration step not yet done (7: all done).")
    schedule: str
    time_zone: str
    last_sync: datetime | None
    next_sync: datetime | None
    last_run: LastRunOut | None = Field(
        description="The latest finished run: the scheduler's record of it, or a run started "
        "by hand when that finished later; null: never run."
    )
    current_run: CurrentRunOut | None = Field(
        description="A run queued, running or waiting for a retry; null: none."
    )
    next_run: datetime | None = Field(
        description="When the scheduler runs the connection next; null when it is not active "
        "or runs on change (schedule on-change) rather than by the clock."
    )


class StepOut(Schema):
    number: int
    slug: str
    title: str
    is_done: bool


class MappingRow(Schema):
    attribute: str
    source: str


class ConnectionDetailOut(ConnectionOut):
    settings: dict[str, Any] = Field(description="The target settings; never the password.")
    password_set: bool
    steps: list[StepOut]
    mapping: list[MappingRow] = Field(description="The attribute mapping (step 3).")
    runs_url: str
    audit_url: str


class ConnectionPage(Paged):
    items: list[ConnectionOut]


class ConnectionQuery(PageQuery):
    q: str | None = Field(None, max_length=200, description="Part of the name or key.")
    state: Connection.State | None = None
    source: str | None = Field(None, max_length=64)
    kind: str | None = Field(None, max_length=32)
    order: Literal["key", "name", "last_sync", "next_sync"] = "key"


class ConnectionIn(SourceStep):
    """Step 1 with the new connection's key."""

    key: str = Field(pattern=KEY_PATTERN, max_length=64)


SECRET_KEYS = frozenset({"password", "token"})
"""Never taken from `settings`: the secret comes in `password` alone."""


class TargetStepIn(Schema):
    settings: dict[str, Any] = Field(
        description="The target's settings (AD: url, bind_dn, base_dn, users_ou, upn_suffix, "
        "ca_file, start_tls, …; SCIM: url, profile, auth, username, tls_verify, attributes, "
        "custom_fields), without the secret."
    )
    password: pydantic.SecretStr | None = Field(
        None,
        description="The secret, whatever the kind calls it (AD's bind password, a SCIM "
        "token or basic password). Write-only: stored encrypted, never shown back; empty "
        "keeps it.",
    )

    def values(self) -> dict[str, Any]:
        password = self.password.get_secret_value() if self.password else ""
        settings = {k: v for k, v in self.settings.items() if k not in SECRET_KEYS}
        return settings | {"password": password}


class RulesIn(Schema):
    """Step 3: each rule as its table in the config file (docs/configuration.md). A rule left
    out keeps its stored value; null, "" or {} removes it."""

    mapping: dict[str, str] | None = Field(
        None, description='Attribute overrides: {"mail": "an expression", …}.'
    )
    naming: dict[str, str] | None = Field(
        None, description="Login-name rules: sam (sAMAccountName) and upn (before the @)."
    )
    placement: str | None = Field(None, description="OU placement: a path of OU names.")
    groups: dict[str, Any] | None = Field(
        None, description="enabled, levels, ou, grace_days, scope, sam_prefix."
    )
    lifecycle: dict[str, Any] | None = Field(None, description="prehire_days, delete_after_days.")
    leavers_ou: str | None = Field(None, description="Where leavers' accounts are moved.")
    scope: dict[str, Any] | None = Field(
        None, description="match, conditions, when_out_of_scope; companies stay step 4's."
    )


class DeleteQuery(Schema):
    confirm: str = Field(max_length=64, description="The connection's key, typed again.")


@router.get("/connections", response=answers(ConnectionPage), **VIEWER)
def list_connections(request: HttpRequest, query: Query[ConnectionQuery]) -> dict[str, Any]:
    return page(_filtered(query), query, connection_outs)


@router.get("/connections/{key}", response=answers(ConnectionDetailOut), **VIEWER)
def get_connection(request: HttpRequest, key: str) -> dict[str, Any]:
    return connection_detail(Connection.objects.select_related("source").get(key=key))


@router.post("/connections", response=answers(ConnectionDetailOut, 409, status=201), **ADMIN)
def create_connection(request: HttpRequest, body: ConnectionIn) -> Status[dict[str, Any]]:
    """A new draft connection, step 1 done; a taken key answers 422 (invalid_values)."""
    values = body.model_dump(exclude={"key"})
    connection = lifecycle.create_connection(body.key, values, actor(request))
    return Status(201, connection_detail(connection))


@router.put("/connections/{key}/steps/source", response=answers(ConnectionDetailOut, 409), **ADMIN)
def save_source_step(request: HttpRequest, key: str, body: SourceStep) -> dict[str, Any]:
    """Step 1: source, name, time zone (the target type is fixed). Resets later steps."""
    return _save(request, key, 1, body.model_dump())


@router.put("/connections/{key}/steps/target", response=answers(ConnectionDetailOut, 409), **ADMIN)
def save_target_step(request: HttpRequest, key: str, body: TargetStepIn) -> dict[str, Any]:
    """Step 2: the target settings and bind password. Resets later steps."""
    return _save(request, key, 2, body.values())


@router.put("/connections/{key}/steps/mapping", response=answers(ConnectionDetailOut, 409), **ADMIN)
def save_mapping_step(
    request: HttpRequest, key: str, body: RulesIn | None = None
) -> dict[str, Any]:
    """Step 3: the rules (overrides of the mapping in `mapping`, login names, placement, groups,
    lifecycle, scope conditions), checked as `hrsync config load` checks them; no body confirms
    the stored ones. Resets later steps."""
    values = body.model_dump(exclude_unset=True) if body is not None else {}
    return _save(request, key, 3, values)


@router.put("/connections/{key}/steps/scope", response=answers(ConnectionDetailOut, 409), **ADMIN)
def save_scope_step(request: HttpRequest, key: str, body: ScopeStep) -> dict[str, Any]:
    """Step 4: safety thresholds and the companies in scope. Afterwards: simulate (step 5)."""
    return _save(request, key, 4, body.model_dump())


@router.delete("/connections/{key}", response=answers(None, 409, status=204), **ADMIN)
def delete_connection(request: HttpRequest, key: str, query: Query[DeleteQuery]) -> Status[None]:
    """Delete the connection, its runs and links (`confirm` must repeat the key); the audit log
    keeps its events."""
    connection = Connection.objects.select_related("source").get(key=key)
    lifecycle.delete_connection(connection, query.confirm, actor(request))
    return Status(204, None)


def _save(request: HttpRequest, key: str, step: int, values: dict[str, Any]) -> dict[str, Any]:
    connection = Connection.objects.select_related("source").get(key=key)
    return connection_detail(lifecycle.save_step(connection, step, values, actor(request)))


def _filtered(query: ConnectionQuery) -> QuerySet[Connection]:
    rows = Connection.objects.select_related("source").only(*LIST_FIELDS)
    if query.q:
        rows = rows.filter(Q(name__icontains=query.q) | Q(key__icontains=query.q))
    if query.state:
        rows = rows.filter(state=query.state)
    if query.source:
        rows = rows.filter(source__key=query.source)
    if query.kind:
        rows = rows.filter(kind=query.kind)
    return rows.order_by(*ORDERS[query.order])


def connection_outs(rows: list[Connection]) -> list[dict[str, Any]]:
    """A page of connections, their run times looked up together (no query per row)."""
    times = run_times(rows)
    return [connection_out(row, times[row.pk]) for row in rows]


def connection_out(row: Connection, times: RunTimes) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "state": row.state,
        "source": row.source.key,
        "source_label": describe_source(row.source).label,
        "kind": row.kind,
        "domain": str(row.settings.get("upn_suffix", "")),
        "step": row.step,
        "schedule": row.schedule,
        "time_zone": row.time_zone,
        "last_sync": row.last_run_at,
        "next_sync": row.next_run_at,
        "last_run": asdict(times.last) if times.last else None,
        "current_run": asdict(times.current) if times.current else None,
        "next_run": times.next_run,
    }


def connection_detail(row: Connection) -> dict[str, Any]:
    profile = wiring.profile_of(row.kind, row.settings)
    attribute = person_id_attribute(row.settings, profile)
    return connection_out(row, run_times([row])[row.pk]) | {
        "settings": lifecycle.snapshot(row)["settings"],
        "password_set": bool(row.secret),
        "steps": [
            {"number": s.number, "slug": s.slug, "title": s.title, "is_done": s.number < row.step}
            for s in STEPS
        ],
        "mapping": [{"attribute": a, "source": s} for a, s in default_mapping(profile, attribute)],
        "runs_url": f"/api/runs?connection={row.key}",
        "audit_url": f"/api/audit?connection={row.key}",
    }
