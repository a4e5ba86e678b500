"""Event triggers (business rules): list, create, edit with every validation message, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from hrsync.app.console.access import actor, role_required
from hrsync.app.console.responses import render_page
from hrsync.app.console.trigger_forms import (
    TriggerDraft,
    action_row,
    action_rows,
    blank_condition,
    choices,
    condition_rows,
    describe_actions,
    describe_conditions,
    empty_values,
    param_options,
    read_draft,
    stored_values,
)
from hrsync.app.models import Trigger, TriggerFiring
from hrsync.app.security import audit
from hrsync.app.security.roles import Role

RECENT_FIRINGS = 20


@role_required(Role.VIEWER)
def trigger_list(request: HttpRequest) -> HttpResponse:
    last = TriggerFiring.objects.filter(trigger=OuterRef("pk")).order_by("-pk")
    rows = Trigger.objects.annotate(
        last_fired=Subquery(last.values("created")[:1]),
        last_ok=Subquery(last.values("is_ok")[:1]),
    )
    listed = [(row, describe_conditions(row), describe_actions(row)) for row in rows]
    return render_page(request, "hrsync/triggers/list.html", {"triggers": listed})


@role_required(Role.ADMIN)
def trigger_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form(request, TriggerDraft("", empty_values()), is_new=True)
    name = request.POST.get("name", "").strip()
    draft = read_draft(request.POST, name)
    if Trigger.objects.filter(name=name).exists():
        draft.problems.insert(0, f"A trigger named {name} exists already.")
    if draft.problems:
        return _form(request, draft, is_new=True, status=400)
    Trigger.objects.create(name=name, **draft.values)
    audit.record(actor(request), "trigger.created", "trigger", name, after=draft.values)
    messages.success(request, f"Trigger {name} created.")
    return redirect(f"/triggers/{name}/")


@role_required(Role.VIEWER)
def trigger_detail(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Trigger, name=name)
    return _form(request, TriggerDraft(name, stored_values(row)), row=row)


@role_required(Role.ADMIN)
def trigger_update(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Trigger, name=name)
    draft = read_draft(request.POST, name)
    if draft.problems:
        return _form(request, draft, row=row, status=400)
    before = stored_values(row)
    for key, value in draft.values.items():
        setattr(row, key, value)
    row.save()
    audit.record(
        actor(request), "trigger.updated", "trigger", name, before=before, after=draft.values
    )
    messages.success(request, f"Trigger {name} saved.")
    return redirect(f"/triggers/{name}/")


@role_required(Role.ADMIN)
@require_POST
def trigger_delete(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Trigger, name=name)
    before = stored_values(row)
    row.delete()
    audit.record(actor(request), "trigger.deleted", "trigger", name, before=before)
    messages.success(request, f"Trigger {name} deleted.")
    return redirect("/triggers/")


@role_required(Role.ADMIN)
@require_GET
def trigger_row(request: HttpRequest, kind: str) -> HttpResponse:
    """htmx: one more blank condition or action row (and the button for the one after it)."""
    index = request.GET.get("index", "0")
    number = int(index) if index.isdigit() else 0
    context: dict[str, Any] = {"index": number, "next_index": number + 1, **choices()}
    if kind == "action":
        context["action"] = action_row(number, {}, param_options())
        return render_page(request, "hrsync/triggers/action_row.html", context | {"oob": True})
    context["condition"] = blank_condition(number)
    return render_page(request, "hrsync/triggers/condition_row.html", context | {"oob": True})


def _form(
    request: HttpRequest,
    draft: TriggerDraft,
    *,
    row: Trigger | None = None,
    is_new: bool = False,
    status: int = 200,
) -> HttpResponse:
    conditions, actions = condition_rows(draft.values), action_rows(draft.values)
    firings = row.firings.order_by("-pk")[:RECENT_FIRINGS] if row is not None else []
    context = {
        "draft": draft,
        "values": draft.values,
        "trigger": row,
        "is_new": is_new,
        "conditions": conditions,
        "actions": actions,
        "next_condition": len(conditions),
        "next_action": len(actions),
        "firings": list(firings),
        **choices(),
    }
    return render_page(request, "hrsync/triggers/form.html", context, status=status)
