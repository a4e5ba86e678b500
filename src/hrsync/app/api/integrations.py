"""Integrations (the Oneflow contract write-back): the set-up check and the contracts seen."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from hrsync.app.api.auth import ADMIN, VIEWER, actor
from hrsync.app.api.errors import answers
from hrsync.app.contracts.checks import check_integration, checks_out
from hrsync.app.contracts.listing import list_contracts
from hrsync.app.models import Integration

router = Router(tags=["integrations"])


class SetupCheckOut(Schema):
    name: str = Field(description="oneflow, flex_permissions, document_category:<company>, …")
    ok: bool
    message: str
    what_to_do: str = Field(description="What to change when the check failed; empty if none.")


class SetupOut(Schema):
    ok: bool = Field(description="Every check passed.")
    checks: list[SetupCheckOut]


class ContractStepOut(Schema):
    event: str
    step: str
    status: str = Field(description="pending, done, skipped or failed.")
    attempts: int
    outcome: str
    notes: list[str]


class ContractOut(Schema):
    contract_id: int
    state: str
    employee_number: str
    employee: str
    steps: list[ContractStepOut]


@router.post("/integrations/{key}/check", response=answers(SetupOut), **ADMIN)
def check_setup(request: HttpRequest, key: str) -> dict[str, Any]:
    """Run the set-up check. Admins only: it creates the template type with the 15 data fields
    in Oneflow when none has them."""
    Integration.objects.get(key=key)
    return checks_out(check_integration(key, actor(request)))


@router.get("/integrations/{key}/contracts", response=answers(list[ContractOut]), **VIEWER)
def contracts(request: HttpRequest, key: str) -> list[dict[str, Any]]:
    """The contracts the integration has seen, their state and each step's outcome."""
    Integration.objects.get(key=key)
    return list_contracts(key)
