"""Run pages: every run, newest first; one run with its counts, outcomes and plan; a held run
approved or rejected by an operator with the diff in front of them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from hrsync.app.connections import lifecycle
from hrsync.app.console.access import actor, role_required
from hrsync.app.console.connection_actions import export_response, plan_context
from hrsync.app.console.keyset import pager_context, read_page
from hrsync.app.console.responses import is_htmx, render_page
from hrsync.app.models import Connection, Run
from hrsync.app.security.roles import Role


@role_required(Role.VIEWER)
def run_list(request: HttpRequest) -> HttpResponse:
    connection = request.GET.get("connection", "").strip()
    status = request.GET.get("status", "").strip()
    page = read_page(filtered_runs(connection, status), request.GET.get("before"))
    context = {
        "connections": Connection.objects.order_by("key").values_list("key", flat=True),
        "statuses": Run.Status.values,
        "connection_key": connection,
        "status": status,
        **pager_context(request.GET, page),
    }
    return render_page(request, "hrsync/runs/list.html", context)


def filtered_runs(connection: str, status: str) -> QuerySet[Run]:
    runs = Run.objects.select_related("connection")
    if connection:
        runs = runs.filter(connection__key=connection)
    return runs.filter(status=status) if status in Run.Status.values else runs


@role_required(Role.VIEWER)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("connection__source"), pk=run_id)
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        return export_response(run, fmt)
    context: dict[str, Any] = {"run": run, "connection": run.connection}
    context |= plan_context(request, run)
    if is_htmx(request):
        return render_page(request, "hrsync/connections/plan_people.html", context)
    context |= {
        "outcomes": outcome_counts(run),
        "duration": (run.finished - run.started) if run.finished else None,
        "failures": run.changes.filter(status="failed").select_related("person")[:50],
        "decision": decision_of(run),
    }
    return render_page(request, "hrsync/runs/detail.html", context)


def outcome_counts(run: Run) -> dict[str, int]:
    rows = run.changes.exclude(status="").values("status").annotate(n=Count("pk"))
    return {str(row["status"]): int(row["n"]) for row in rows.order_by("status")}


def decision_of(run: Run) -> str:
    """Who approved or rejected a held run, as its error note says (see lifecycle._decide)."""
    note = run.error.split(" (", 1)[0]
    return note if note.startswith(("approved by", "rejected by")) else ""


@require_POST
@role_required(Role.OPERATOR)
def run_approve(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("connection"), pk=run_id)
    try:
        applying = lifecycle.approve_run(run, actor(request))
    except (lifecycle.LifecycleError, lifecycle.RunError) as error:
        messages.error(request, str(error))
        return redirect(f"/runs/{run.pk}/")
    skipped = applying.changes.filter(status="skipped").count()
    note = f"; {skipped} skipped, their accounts changed meanwhile" if skipped else ""
    messages.success(
        request, f"Approved: run #{applying.pk} applied the plan ({applying.status}{note})."
    )
    return redirect(f"/runs/{applying.pk}/")


@require_POST
@role_required(Role.OPERATOR)
def run_reject(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("connection"), pk=run_id)
    try:
        lifecycle.reject_run(run, actor(request), request.POST.get("reason", "")[:500])
    except lifecycle.LifecycleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Rejected run #{run.pk}; nothing was applied.")
    return redirect(f"/runs/{run.pk}/")
