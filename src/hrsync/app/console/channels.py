"""Notification channels: list with health, create, edit, reset, delete, a test notification."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from hrsync.app.console.access import actor, role_required
from hrsync.app.console.channel_forms import ChannelForm, finish_new, initial_values, secret_note
from hrsync.app.console.responses import is_htmx, render_page
from hrsync.app.models import Channel, Delivery, Trigger
from hrsync.app.notify import DEFAULT_TEMPLATES, channel_status, reset_channel, send_notification
from hrsync.app.security import audit
from hrsync.app.security.roles import Role

RECENT_DELIVERIES = 20
MASK = "••••••"


@role_required(Role.VIEWER)
def channel_list(request: HttpRequest) -> HttpResponse:
    return render_page(request, "hrsync/channels/list.html", {"channels": channel_status()})


@role_required(Role.ADMIN)
def channel_new(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None, initial={"tls_verify": True, "max_attempts": 3})
    if request.method == "POST" and form.is_valid():
        values = form.result
        with transaction.atomic():
            row = Channel.objects.create(
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                settings=values.settings,
                secret=values.secret,
            )
            finish_new(row)
        audit.record(actor(request), "channel.created", "channel", row.name, after=snapshot(row))
        messages.success(request, f"Channel {row.name} created.")
        return redirect(f"/channels/{row.name}/")
    return _form(request, form, None, status=400 if form.is_bound else 200)


@role_required(Role.VIEWER)
def channel_detail(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Channel, name=name)
    return _form(request, ChannelForm(initial=initial_values(row), channel=row), row)


@role_required(Role.ADMIN)
def channel_update(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Channel, name=name)
    form = ChannelForm(request.POST, channel=row)
    if not form.is_valid():
        return _form(request, form, row, status=400)
    before = snapshot(row)
    values = form.result
    secret_changed = values.secret != row.secret
    row.kind, row.settings, row.secret = form.cleaned_data["kind"], values.settings, values.secret
    # Fixed settings deserve a fresh start, as `hrsync config load` gives them.
    row.consecutive_failures, row.suspended_reason = 0, ""
    row.save()
    after = snapshot(row) | {"secret_changed": secret_changed}
    audit.record(actor(request), "channel.updated", "channel", name, before=before, after=after)
    messages.success(request, f"Channel {name} saved.")
    return redirect(f"/channels/{name}/")


def _form(
    request: HttpRequest, form: ChannelForm, row: Channel | None, *, status: int = 200
) -> HttpResponse:
    deliveries = row.deliveries.order_by("-pk")[:RECENT_DELIVERIES] if row is not None else []
    health = next((c for c in channel_status() if row and c["name"] == row.name), None)
    context = {
        "form": form,
        "channel": row,
        "health": health,
        "secret_note": secret_note(row),
        "deliveries": list(deliveries),
        "templates": sorted(DEFAULT_TEMPLATES),
        "user_email": getattr(request.user, "email", ""),
    }
    return render_page(request, "hrsync/channels/form.html", context, status=status)


@role_required(Role.ADMIN)
@require_POST
def channel_test(request: HttpRequest, name: str) -> HttpResponse:
    """Send a sample notification now and show how the delivery went."""
    row = get_object_or_404(Channel, name=name)
    template = request.POST.get("template", "")
    if template not in DEFAULT_TEMPLATES:
        template = sorted(DEFAULT_TEMPLATES)[0]
    to = request.POST.get("to", "").strip()
    delivery = send_notification(row.name, template, sample_context(to), to=to or None)
    audit.record(
        actor(request),
        "channel.tested",
        "channel",
        name,
        after={"template": template, "status": delivery.status, "error": delivery.error},
    )
    if is_htmx(request):
        return render_page(request, "hrsync/channels/test_result.html", {"delivery": delivery})
    _tell(request, delivery)
    return redirect(f"/channels/{name}/")


def _tell(request: HttpRequest, delivery: Delivery) -> None:
    if delivery.status == Delivery.Status.SENT:
        messages.success(request, "The test notification was sent.")
    else:
        messages.error(request, f"The test notification was {delivery.status}: {delivery.error}")


def sample_context(to: str) -> dict[str, Any]:
    """Made-up variables for a test, labelled as such; the manager's e-mail is the tester's."""
    today = timezone.localdate().isoformat()
    return {
        "event": "hrsync.test",
        "ticket": {"id": 0, "kind": "joiner", "status": "new", "title": "Test ticket"},
        "person": {
            "name": "Test Person (a test notification)",
            "given_name": "Test",
            "family_name": "Person",
            "employee_number": "TEST-0001",
            "title": "Tester",
            "department": "IT",
            "company": "Example",
            "start_date": today,
        },
        "manager": {"name": "Test Manager", "email": to, "employee_number": "TEST-0000"},
        "connection": {"key": "test", "type": "active_directory"},
        "outcome": {
            "status": "applied",
            "username": "test.person",
            "ref": "CN=Test Person,OU=Test,DC=example,DC=org",
            "error": "none: this is a test notification",
            "hint": "nothing to do: this is a test notification",
        },
        "run": {"id": 0, "reasons": ["none: this is a test notification"]},
    }


@role_required(Role.ADMIN)
@require_POST
def channel_reset(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Channel, name=name)
    before = {"failures": row.consecutive_failures, "suspended": row.suspended_reason}
    reset_channel(row.name)
    after = {"failures": 0, "suspended": ""}
    audit.record(actor(request), "channel.reset", "channel", name, before=before, after=after)
    messages.success(request, f"Channel {name} reset: notifications go out again.")
    return redirect("/channels/" if request.POST.get("back") == "list" else f"/channels/{name}/")


@role_required(Role.ADMIN)
@require_POST
def channel_delete(request: HttpRequest, name: str) -> HttpResponse:
    row = get_object_or_404(Channel, name=name)
    users = [t.name for t in Trigger.objects.all() if _notifies(t, name)]
    if users:
        messages.error(request, f"Channel {name} is used by the triggers {', '.join(users)}.")
        return redirect(f"/channels/{name}/")
    before = snapshot(row)
    row.delete()
    audit.record(actor(request), "channel.deleted", "channel", name, before=before)
    messages.success(request, f"Channel {name} deleted.")
    return redirect("/channels/")


def _notifies(trigger: Trigger, channel: str) -> bool:
    return any(a.get("do") == "notify" and a.get("channel") == channel for a in trigger.actions)


def snapshot(row: Channel) -> dict[str, Any]:
    """A channel as the audit log records it: settings (names of secrets only), never a secret.

    A chat channel's URL is a secret even where the config file gave it in clear."""
    settings = dict(row.settings)
    if row.kind in (Channel.Kind.TEAMS, Channel.Kind.SLACK) and "url" in settings:
        settings["url"] = MASK
    return {"kind": row.kind, "settings": settings, "secret_set": bool(row.secret)}
