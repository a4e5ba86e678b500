"""Notification channels: list with their health, create, edit and delete (the secret write-only),
resume a suspended one, send a test notification."""

from __future__ import annotations

from typing import Any

import pydantic
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from hrsync.app.api.auth import ADMIN, OPERATOR, VIEWER, actor
from hrsync.app.api.errors import ApiError, answers, conflict
from hrsync.app.api.paging import Paged, PageQuery
from hrsync.app.api.schemas import KEY_PATTERN, CheckOut
from hrsync.app.config_errors import ConfigError
from hrsync.app.console.channel_secrets import (
    SECRET_SETTING,
    reserved_name,
)
from hrsync.app.models import Channel
from hrsync.app.notify import DEFAULT_TEMPLATES, channel_status, reset_channel, send_notification
from hrsync.app.notify.config import validate_entry
from hrsync.app.security import audit
from hrsync.app.security.secrets import encrypt

router = Router(tags=["channels"])
PENDING = "HRSYNC_CHANNEL_NEW_SECRET"
"""Stands in for a new channel's reserved variable until the channel has its pk."""
HIDDEN_SETTINGS = {Channel.Kind.TEAMS: "url", Channel.Kind.SLACK: "url"}
"""A Teams or Slack incoming-webhook URL carries its key: a secret, never shown back."""
WRITE_ONLY_HELP = (
    "Write-only: the password, webhook secret or chat URL, stored encrypted and never shown "
    "back. An empty string removes it."
)
TEST_CONTEXT = {
    "person": {"name": "Test Person", "employee_number": "0000", "title": "Test notification"},
    "connection": {"key": "test"},
    "outcome": {"status": "test", "error": "this is a test notification from hrsync"},
}


class DeliveryOut(Schema):
    status: str
    template: str
    created: str
    attempts: int
    error: str


class ChannelOut(Schema):
    name: str
    kind: str = Field(description="email, webhook, teams, slack")
    settings: dict[str, Any] = Field(description="The settings; a chat URL is never shown.")
    secret_set: bool
    state: str = Field(description="ok, failing, suspended")
    consecutive_failures: int
    suspended_reason: str
    destination: str = Field(description="Where it sends, in words that reveal no secret.")
    last_delivery: DeliveryOut | None


class ChannelPage(Paged):
    items: list[ChannelOut]


class ChannelBody(Schema):
    kind: Channel.Kind
    settings: dict[str, Any] = Field(
        description="email: host, port, security, username, from_address, to; webhook: url; "
        "teams/slack: nothing more. The secret goes in `secret`, or an environment variable "
        "named by password_env, secret_env or url_env. See docs/api.md."
    )
    secret: pydantic.SecretStr | None = Field(None, description=WRITE_ONLY_HELP)


class ChannelIn(ChannelBody):
    name: str = Field(pattern=KEY_PATTERN, max_length=64)


class TestIn(Schema):
    template: str = Field("joiner_provisioned", max_length=64)
    to: list[str] = Field(
        default_factory=list, max_length=10, description="Extra e-mail recipients."
    )


@router.get("/channels", response=answers(ChannelPage), **VIEWER)
def list_channels(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    """Every channel with its health and last delivery (channels are few: one query each)."""
    statuses = channel_status()
    rows = {row.name: row for row in Channel.objects.all()}
    shown = statuses[query.offset : query.offset + query.limit]
    return {
        "items": [_out(rows[status["name"]], status) for status in shown],
        "count": len(statuses),
        "is_count_capped": False,
    }


@router.get("/channels/{name}", response=answers(ChannelOut), **VIEWER)
def get_channel(request: HttpRequest, name: str) -> dict[str, Any]:
    return _present(Channel.objects.get(name=name))


@router.post("/channels", response=answers(ChannelOut, 409, status=201), **ADMIN)
def create_channel(request: HttpRequest, body: ChannelIn) -> Status[dict[str, Any]]:
    row = Channel(name=body.name)
    _set(row, body)
    try:
        with transaction.atomic():
            row.save()
            _finish_new(row)
    except IntegrityError as error:
        raise conflict(f"a channel named {body.name!r} exists") from error
    audit.record(actor(request), "channel.created", "channel", row.name, after=_audited(row))
    return Status(201, _present(row))


@router.put("/channels/{name}", response=answers(ChannelOut), **ADMIN)
def replace_channel(request: HttpRequest, name: str, body: ChannelBody) -> dict[str, Any]:
    """New settings; the stored secret (and a chat URL) stay unless new ones are given. A
    suspended channel gets a fresh start."""
    row = Channel.objects.get(name=name)
    before = _audited(row)
    _set(row, body)
    row.consecutive_failures, row.suspended_reason = 0, ""
    row.save()
    audit.record(
        actor(request), "channel.updated", "channel", name, before=before, after=_audited(row)
    )
    return _present(row)


@router.delete("/channels/{name}", response=answers(None, status=204), **ADMIN)
def delete_channel(request: HttpRequest, name: str) -> Status[None]:
    row = Channel.objects.get(name=name)
    before = _audited(row)
    row.delete()
    audit.record(actor(request), "channel.deleted", "channel", name, before=before)
    return Status(204, None)


@router.post("/channels/{name}/reset", response=answers(ChannelOut), **ADMIN)
def resume_channel(request: HttpRequest, name: str) -> dict[str, Any]:
    """Resume a suspended channel and clear its failure count."""
    row = Channel.objects.get(name=name)
    before = {"suspended_reason": row.suspended_reason, "failures": row.consecutive_failures}
    row = reset_channel(name)
    audit.record(actor(request), "channel.reset", "channel", name, before=before)
    return _present(row)


@router.post("/channels/{name}/test", response=answers(CheckOut), **OPERATOR)
def send_test(request: HttpRequest, name: str, body: TestIn) -> dict[str, Any]:
    """Send a test notification through the channel now; the delivery is logged as any other."""
    Channel.objects.get(name=name)
    if body.template not in DEFAULT_TEMPLATES:
        known = ", ".join(sorted(DEFAULT_TEMPLATES))
        raise ApiError(422, f"unknown template {body.template!r} (known: {known})")
    delivery = send_notification(name, body.template, TEST_CONTEXT, to=body.to or None)
    audit.record(
        actor(request),
        "channel.tested",
        "channel",
        name,
        after={"status": delivery.status, "error": delivery.error},
    )
    is_sent = delivery.status == "sent"
    return {"ok": is_sent, "message": "sent" if is_sent else delivery.error or delivery.status}


def _set(row: Channel, body: ChannelBody) -> None:
    """Validate and set kind, settings and secret. A secret given here is stored encrypted and
    its setting (password_env, secret_env, url_env) names the channel's reserved variable, as
    the console does (hrsync.app.console.channel_secrets), which notify reads from the channel
    itself (hrsync.app.notify.config.read_secret); left out, the stored one stays."""
    kind = Channel.Kind(body.kind)
    settings = {**_kept(row, kind), **body.settings}
    setting = SECRET_SETTING[kind]
    if body.secret is not None:
        row.secret = encrypt(body.secret.get_secret_value())
        settings.pop(setting, None)
        if row.secret:
            settings[setting] = reserved_name(row.pk) if row.pk else PENDING
        if row.secret and kind in HIDDEN_SETTINGS:
            settings.pop(HIDDEN_SETTINGS[kind], None)  # the URL is the secret now
    try:
        _, stored = validate_entry(row.name, {"type": str(kind), **settings})
    except ConfigError as error:
        raise ApiError(422, str(error), code="invalid_settings") from error
    row.kind, row.settings = kind, stored


def _kept(row: Channel, kind: Channel.Kind) -> dict[str, Any]:
    """What a change keeps without repeating it: the hidden chat URL, the stored secret's name."""
    if row.pk is None or row.kind != kind:
        return {}
    names = [HIDDEN_SETTINGS.get(kind), SECRET_SETTING[kind]]
    kept = {name: row.settings[name] for name in names if name and name in row.settings}
    if "url_env" in kept and "url" in kept:
        kept.pop("url")
    return kept


def _finish_new(row: Channel) -> None:
    """A new channel's secret setting names its own reserved variable, now its pk is known."""
    setting = SECRET_SETTING[Channel.Kind(row.kind)]
    if row.settings.get(setting) == PENDING:
        row.settings[setting] = reserved_name(row.pk)
        row.save(update_fields=["settings"])


def _present(row: Channel) -> dict[str, Any]:
    status = next(s for s in channel_status() if s["name"] == row.name)
    return _out(row, status)


def _out(row: Channel, status: dict[str, Any]) -> dict[str, Any]:
    return status | {"settings": _shown(row), "secret_set": bool(row.secret)}


def _shown(row: Channel) -> dict[str, Any]:
    hidden = HIDDEN_SETTINGS.get(Channel.Kind(row.kind))
    return {key: value for key, value in row.settings.items() if key != hidden}


def _audited(row: Channel) -> dict[str, Any]:
    return {"kind": row.kind, "settings": _shown(row), "secret_set": bool(row.secret)}
