"""What is done to a connection: simulate and read the plan, preview and save a schedule,
activate, deactivate, delete. Operators simulate; admins change the state."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from hrsync.app.connection_settings.steps import STEPS
from hrsync.app.connections import lifecycle
from hrsync.app.console.access import actor, role_required
from hrsync.app.console.connection_forms import ScheduleForm, put_errors
from hrsync.app.console.connections import connection_or_404, progress, target_profile
from hrsync.app.console.responses import by_method, is_htmx, query_with, render_page
from hrsync.app.models import Connection, Run, Trigger
from hrsync.app.security.roles import Role
from hrsync.domain.plan import CHANGE_TYPES

PEOPLE_PER_PAGE = 100


@require_POST
@role_required(Role.OPERATOR)
def connection_simulate(request: HttpRequest, key: str) -> HttpResponse:
    connection = connection_or_404(key)
    try:
        run = lifecycle.simulate(connection, actor(request))
    except lifecycle.LifecycleError as error:
        messages.error(request, str(error))
        return redirect(f"/connections/{key}/")
    if run.status != Run.Status.SIMULATED:
        messages.error(request, f"The simulation failed: {run.error}")
        return redirect(f"/runs/{run.pk}/")
    return redirect(f"/connections/{key}/plan/{run.pk}/")


@role_required(Role.VIEWER)
def connection_plan(request: HttpRequest, key: str, run_id: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("connection__source"), pk=run_id)
    if run.connection.key != key:
        return redirect(f"/connections/{run.connection.key}/plan/{run.pk}/")
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        return export_response(run, fmt)
    context = {"connection": run.connection, "run": run, **plan_context(request, run)}
    if is_htmx(request):
        return render_page(request, "hrsync/connections/plan_people.html", context)
    return render_page(request, "hrsync/connections/plan.html", context)


def export_response(run: Run, fmt: str) -> HttpResponse:
    content_type, body = lifecycle.export_plan(run, fmt)
    response = HttpResponse(body, content_type=content_type)
    name = f"plan-{run.connection.key}-run{run.pk}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def plan_context(request: HttpRequest, run: Run) -> dict[str, Any]:
    """The plan diff narrowed by ?kind= and ?q=, a page of people at a time (?page=)."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in CHANGE_TYPES else ""
    search = request.GET.get("q", "").strip()
    diff = lifecycle.plan_diff(run, kind=kind or None, search=search)
    profile = target_profile(run.connection)  # the search box names the target's own reference
    page = Paginator(diff.people, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "diff": diff,
        "people_page": page,
        "kinds": list(CHANGE_TYPES),
        "kind": kind,
        "search": search,
        "next_query": query_with(request.GET, page=str(page.next_page_number()))
        if page.has_next()
        else None,
        "previous_query": query_with(request.GET, page=str(page.previous_page_number()))
        if page.has_previous()
        else None,
        "total_changes": sum(diff.counts.values()),
        "plan_url": request.path,
        "ref_label": profile.ref_label if profile is not None else "account",
    }


@role_required(Role.VIEWER)
def schedule_preview(request: HttpRequest, key: str) -> HttpResponse:
    """The next five run times of the schedule being typed, in the connection's time zone."""
    connection = connection_or_404(key)
    context: dict[str, Any] = {"connection": connection}
    try:
        text = _schedule_text(request.GET) if "mode" in request.GET else None
        schedule = text if text is not None else request.GET.get("schedule", connection.schedule)
        context["schedule"] = lifecycle.parse_schedule(schedule)
        context["times"] = lifecycle.next_runs(connection, schedule)
    except lifecycle.InvalidValuesError as error:
        context["problem"] = "; ".join(error.errors.values())
    return render_page(request, "hrsync/connections/schedule_preview.html", context)


def _schedule_text(data: Any) -> str:
    form = ScheduleForm(data)
    if not form.is_valid():
        raise lifecycle.InvalidValuesError(
            {name: " ".join(str(e) for e in errors) for name, errors in form.errors.items()}
        )
    return form.schedule_text()


def _confirm(request: HttpRequest, key: str, action: str) -> HttpResponse:
    connection = connection_or_404(key)
    context = {"connection": connection, "action": action}
    if action == "delete":
        context["triggers"] = triggers_naming(key)
    return render_page(request, "hrsync/connections/confirm.html", context)


def triggers_naming(key: str) -> list[str]:
    """Triggers with an action on this connection: they fail once it is gone."""
    return [
        trigger.name
        for trigger in Trigger.objects.order_by("name")
        if any(isinstance(a, dict) and a.get("connection") == key for a in trigger.actions)
    ]


def _activate(request: HttpRequest, key: str) -> HttpResponse:
    connection = connection_or_404(key)
    form = ScheduleForm(request.POST) if "mode" in request.POST else None
    if form is not None and not form.is_valid():
        return _schedule_page(request, connection, form)
    try:
        # No schedule fields: reactivation with the stored schedule.
        schedule = form.schedule_text() if form is not None else None
        lifecycle.activate(connection, schedule, actor(request))
    except lifecycle.InvalidValuesError as error:
        form = form or ScheduleForm(initial=ScheduleForm.initial_for(connection.schedule))
        put_errors(form, error)
        return _schedule_page(request, connection, form)
    except lifecycle.LifecycleError as error:
        messages.error(request, str(error))
        return redirect(f"/connections/{key}/")
    messages.success(request, f"{connection.name or key} is active: {connection.schedule}.")
    return redirect(f"/connections/{key}/")


def _schedule_page(
    request: HttpRequest, connection: Connection, form: ScheduleForm
) -> HttpResponse:
    context = {
        "connection": connection,
        "steps": progress(connection),
        "step": STEPS[5],
        "form": form,
        "step_template": "hrsync/connections/step_schedule.html",
    }
    return render_page(request, "hrsync/connections/step.html", context, status=400)


def _deactivate(request: HttpRequest, key: str) -> HttpResponse:
    connection = connection_or_404(key)
    try:
        lifecycle.deactivate(connection, actor(request))
    except lifecycle.LifecycleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"{connection.name or key} is deactivated: no runs until reactivated."
        )
    return redirect(f"/connections/{key}/")


def _delete(request: HttpRequest, key: str) -> HttpResponse:
    connection = connection_or_404(key)
    try:
        lifecycle.delete_connection(connection, request.POST.get("confirm", ""), actor(request))
    except lifecycle.LifecycleError as error:
        context = {"connection": connection, "action": "delete", "problem": str(error)}
        return render_page(request, "hrsync/connections/confirm.html", context, status=400)
    messages.success(request, f"Deleted {key}. Its audit log is kept.")
    return redirect("/connections/")


def _admin_confirm(action: str) -> Any:
    def show(request: HttpRequest, key: str) -> HttpResponse:
        return _confirm(request, key, action)

    return role_required(Role.ADMIN)(show)


connection_activate = by_method(
    get=_admin_confirm("activate"), post=role_required(Role.ADMIN)(_activate)
)
connection_deactivate = by_method(
    get=_admin_confirm("deactivate"), post=role_required(Role.ADMIN)(_deactivate)
)
connection_delete = by_method(get=_admin_confirm("delete"), post=role_required(Role.ADMIN)(_delete))
