"""A run's plan as a per-person diff (hrsync.app.runs.plan_diff), paged, and its CSV/JSON export."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Schema

from hrsync.app.api.paging import Paged, PageQuery
from hrsync.app.connections.lifecycle import export_plan, plan_diff
from hrsync.app.models import Run


class AttributeChangeOut(Schema):
    name: str = Field(description="The attribute as the target names it: mail, name.givenName.")
    label: str = Field(description="As the target's admin knows it: E-mail, First name.")
    old: str | None = Field(
        description="A manager or group member by name where hrsync knows them."
    )
    new: str | None


class ChangeOut(Schema):
    kind: str = Field(description="create, update, move, rename, enable, disable, delete, …")
    ref: str = Field(
        description="The account's ref in the target: AD: its DN; SCIM: the user's id."
    )
    reason: str
    attributes: list[AttributeChangeOut] = Field(description="Per attribute: old → new.")
    status: str = Field(description="The outcome once applied; empty in a simulation.")
    error: str


class PersonDiffOut(Schema):
    person_id: str
    name: str
    employee_number: str
    changes: list[ChangeOut]


class PlanOut(Paged):
    """People whose changes match the filters, `limit` at a time; counts cover the whole plan."""

    run_id: int
    counts: dict[str, int]
    is_held: bool = Field(description="The safety gate holds (or would hold) this plan.")
    reasons: list[str]
    items: list[PersonDiffOut]


class PlanQuery(PageQuery):
    kind: str | None = Field(None, max_length=16, description="Only changes of this kind.")
    q: str | None = Field(
        None,
        max_length=200,
        description="Name, employee number or account reference (AD: DN; SCIM: id).",
    )


class ExportQuery(Schema):
    format: Literal["csv", "json"] = "csv"


def plan_page(run: Run, query: PlanQuery) -> dict[str, Any]:
    diff = plan_diff(run, kind=query.kind, search=query.q)
    people = diff.people[query.offset : query.offset + query.limit]
    return {
        "run_id": diff.run_id,
        "counts": diff.counts,
        "is_held": diff.is_held,
        "reasons": list(diff.reasons),
        "items": [dataclasses.asdict(person) for person in people],
        "count": len(diff.people),
        "is_count_capped": False,
    }


def export_response(run: Run, fmt: str, name: str) -> HttpResponse:
    content_type, body = export_plan(run, fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}-run-{run.pk}.{fmt}"'
    return response


EXPORT_OPENAPI: dict[str, Any] = {
    "responses": {
        "200": {
            "description": "The plan per person: CSV (a row per attribute change) or JSON",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    }
}
