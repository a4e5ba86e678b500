"""Integration pages (the Oneflow contract write-back): each integration with its contracts and
its set-up check; each contract with its deliveries, its steps' outcomes and notes, and "Retry"
for a step that failed for good."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from hrsync.app.console.access import actor, role_required
from hrsync.app.console.responses import render_page
from hrsync.app.contracts.checks import check_integration
from hrsync.app.contracts.retry import NotRetryableError, retry_step
from hrsync.app.models import Contract, ContractDelivery, ContractStep, Integration
from hrsync.app.security.roles import Role
from hrsync.workflows.contracts.steps import WHAT_TO_DO, Status, Step

LAST_EVENTS = 20


@role_required(Role.VIEWER)
def integration_list(request: HttpRequest) -> HttpResponse:
    rows = Integration.objects.select_related("source").annotate(
        contract_count=Count("contracts", distinct=True),
        failed_count=Count("contracts__steps", filter=Q(contracts__steps__status=Status.FAILED)),
    )
    return render_page(request, "hrsync/integrations/list.html", {"rows": rows.order_by("key")})


@role_required(Role.VIEWER)
def integration_detail(request: HttpRequest, key: str) -> HttpResponse:
    integration = get_object_or_404(Integration.objects.select_related("source"), key=key)
    contracts = Contract.objects.filter(integration=integration).order_by("-updated")
    failed = set(
        ContractStep.objects.filter(contract__integration=integration, status=Status.FAILED)
        .values_list("contract_id", flat=True)
    )  # fmt: skip
    events = ContractDelivery.objects.filter(integration=integration).order_by("-received")
    context = {
        "integration": integration,
        "contracts": [(c, c.pk in failed) for c in contracts[:200]],
        "events": events[:LAST_EVENTS],
        "checks": request.session.pop(f"checks:{key}", None),
    }
    return render_page(request, "hrsync/integrations/detail.html", context)


@role_required(Role.ADMIN)
@require_POST
def integration_check(request: HttpRequest, key: str) -> HttpResponse:
    """Admins only: the check creates the template type in Oneflow when none has the fields."""
    get_object_or_404(Integration, key=key)
    checks = check_integration(key, actor(request))
    request.session[f"checks:{key}"] = [
        {"name": c.name, "ok": c.ok, "message": c.message, "what_to_do": c.what_to_do}
        for c in checks
    ]
    if all(c.ok for c in checks):
        messages.success(request, "Every set-up check passed.")
    else:
        messages.error(request, "Some set-up checks failed: see what to do below.")
    return redirect(f"/integrations/{key}/")


@role_required(Role.VIEWER)
def contract_detail(request: HttpRequest, key: str, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(
        Contract.objects.select_related("integration"), integration__key=key,
        contract_id=contract_id,
    )  # fmt: skip
    deliveries = ContractDelivery.objects.filter(
        integration=contract.integration, contract_id=contract_id
    ).order_by("received", "pk")
    steps = contract.steps.select_related("delivery").order_by("delivery__received", "pk")
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for step in steps:
        by_delivery.setdefault(step.delivery_id, []).append(_step_view(step))
    context = {
        "integration": contract.integration,
        "contract": contract,
        "deliveries": [(d, by_delivery.get(d.pk, [])) for d in deliveries],
    }
    return render_page(request, "hrsync/integrations/contract.html", context)


def _step_view(step: ContractStep) -> dict[str, Any]:
    is_failed = step.status == Status.FAILED
    return {
        "row": step,
        "notes": step.details[-1]["notes"] if step.details else [],
        "history": step.details,
        "what_to_do": WHAT_TO_DO.get(Step(step.kind), "") if is_failed else "",
        "is_failed": is_failed,
    }


@role_required(Role.OPERATOR)
@require_POST
def step_retry(request: HttpRequest, key: str, contract_id: int, step_id: int) -> HttpResponse:
    step = get_object_or_404(
        ContractStep.objects.select_related("contract__integration", "delivery"),
        pk=step_id, contract__integration__key=key, contract__contract_id=contract_id,
    )  # fmt: skip
    try:
        retry_step(step, actor(request))
    except NotRetryableError as error:
        messages.info(request, str(error))
    else:
        messages.success(request, f"Step {step.kind} queued to be tried again.")
    return redirect(f"/integrations/{key}/contracts/{contract_id}/")
