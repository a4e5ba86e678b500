"""Triggers (business rules): list, read, create, replace, delete, and validate without saving.

A trigger is checked as `hrsync config load` checks one (hrsync.app.triggers.config.TriggerEntry
for its shape, engine.rules.validate_rule for its sense, against the connections, channels and
templates that exist); every problem comes back at once, as a 422 with `details`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from hrsync.app.api.auth import ADMIN, VIEWER, actor
from hrsync.app.api.errors import ApiError, answers, conflict
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.api.schemas import KEY_PATTERN
from hrsync.app.models import Channel, Connection, Trigger
from hrsync.app.notify import DEFAULT_TEMPLATES
from hrsync.app.security import audit
from hrsync.app.triggers.config import TriggerEntry
from hrsync.engine.rules import rule_from_json, validate_rule

router = Router(tags=["triggers"])


class ConditionIn(Schema):
    field: str = Field(max_length=64)
    op: str = Field(max_length=32)
    value: str | int | float | bool | list[str | int | float | bool] | None = None


class TriggerBody(Schema):
    """A trigger's rule, as `[triggers.NAME]` in the config file holds it."""

    event: str = Field(max_length=32, description="e.g. ticket.created, run.failed")
    match: str = Field("all", max_length=3, description="all or any")
    conditions: list[ConditionIn] = Field(default_factory=list)
    actions: list[dict[str, Any]] = Field(
        default_factory=list, description='e.g. {"do": "provision", "connection": "ad"}'
    )
    order: int = Field(100, ge=0, le=1_000_000)
    enabled: bool = True
    description: str = Field("", max_length=300)


class TriggerIn(TriggerBody):
    name: str = Field(pattern=KEY_PATTERN, max_length=64)


class TriggerOut(TriggerIn):
    created: datetime
    updated: datetime


class TriggerPage(Paged):
    items: list[TriggerOut]


class ValidationOut(Schema):
    ok: bool
    problems: list[str]


@router.get("/triggers", response=answers(TriggerPage), **VIEWER)
def list_triggers(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    """In firing order."""
    return page(Trigger.objects.order_by("order", "name"), query, lambda rows: map(_out, rows))


@router.post("/triggers/validate", response=answers(ValidationOut), **VIEWER)
def validate_trigger(request: HttpRequest, body: TriggerBody) -> dict[str, Any]:
    """Every problem with a rule, without saving it (the form's validation messages).

    Declared before /triggers/{name}, which would otherwise take "validate" for a name."""
    problems = _problems(body)
    return {"ok": not problems, "problems": problems}


@router.get("/triggers/{name}", response=answers(TriggerOut), **VIEWER)
def get_trigger(request: HttpRequest, name: str) -> dict[str, Any]:
    return _out(Trigger.objects.get(name=name))


@router.post("/triggers", response=answers(TriggerOut, 409, status=201), **ADMIN)
def create_trigger(request: HttpRequest, body: TriggerIn) -> Status[dict[str, Any]]:
    values = _checked(body)
    try:
        with transaction.atomic():
            row = Trigger.objects.create(name=body.name, **values)
    except IntegrityError as error:
        raise conflict(f"a trigger named {body.name!r} exists") from error
    audit.record(actor(request), "trigger.created", "trigger", row.name, after=values)
    return Status(201, _out(row))


@router.put("/triggers/{name}", response=answers(TriggerOut), **ADMIN)
def replace_trigger(request: HttpRequest, name: str, body: TriggerBody) -> dict[str, Any]:
    row = Trigger.objects.get(name=name)
    before = _stored(row)
    values = _checked(body)
    for key, value in values.items():
        setattr(row, key, value)
    row.save()
    audit.record(actor(request), "trigger.updated", "trigger", name, before=before, after=values)
    return _out(row)


@router.delete("/triggers/{name}", response=answers(None, status=204), **ADMIN)
def delete_trigger(request: HttpRequest, name: str) -> Status[None]:
    row = Trigger.objects.get(name=name)
    before = _stored(row)
    row.delete()
    audit.record(actor(request), "trigger.deleted", "trigger", name, before=before)
    return Status(204, None)


def _checked(body: TriggerBody) -> dict[str, Any]:
    """The row's values; 422 with every problem when the rule does not make sense."""
    problems = _problems(body)
    if problems:
        raise ApiError(422, "; ".join(problems), code="invalid_trigger", details=problems)
    return _entry(body).stored()


def _problems(body: TriggerBody) -> list[str]:
    try:
        values = _entry(body).stored()
        rule = rule_from_json(
            "api", values["event"], values["match"], values["conditions"], values["actions"]
        )
    except (pydantic.ValidationError, ValueError) as error:
        return [_first_line(error)]
    return validate_rule(
        rule,
        connections=set(Connection.objects.values_list("key", flat=True)),
        channels=set(Channel.objects.values_list("name", flat=True)),
        templates=set(DEFAULT_TEMPLATES),
    )


def _entry(body: TriggerBody) -> TriggerEntry:
    return TriggerEntry.model_validate(body.model_dump(include=set(TriggerBody.model_fields)))


def _first_line(error: Exception) -> str:
    if isinstance(error, pydantic.ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()
        )
    return str(error)


def _stored(row: Trigger) -> dict[str, Any]:
    return {
        "event": row.event,
        "match": row.match,
        "conditions": row.conditions,
        "actions": row.actions,
        "order": row.order,
        "is_enabled": row.is_enabled,
        "description": row.description,
    }


def _out(row: Trigger) -> dict[str, Any]:
    stored = _stored(row)
    return {
        "name": row.name,
        **{k: v for k, v in stored.items() if k != "is_enabled"},
        "enabled": row.is_enabled,
        "created": row.created,
        "updated": row.updated,
    }
