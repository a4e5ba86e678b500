"""Send a notification through a named channel and record it in the delivery log.

`send_notification` never raises for a delivery problem: the outcome is a `Delivery` row (sent,
failed or skipped, with the error in plain words). Channel health: every failed delivery counts,
a sent one resets the count, and after `SUSPEND_AFTER` failures in a row the channel is suspended
— later notifications are recorded as skipped with the reason until `reset_channel` is called.
A channel that keeps failing is reported, not retried forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx2
import structlog
from django.db import transaction
from pydantic import ValidationError

from hrsync.app.models import Channel, Delivery
from hrsync.app.notify import email, webhook
from hrsync.app.notify.config import (
    ChannelSettings,
    ChatSettings,
    EmailSettings,
    MissingSecretError,
    WebhookSettings,
    check_url,
    explain,
    parse_settings,
    read_secret,
)
from hrsync.app.notify.templates import (
    DEFAULT_TEMPLATES,
    MessageTemplate,
    RenderedMessage,
    RenderError,
    plain_data,
    render_message,
)

log = structlog.get_logger(__name__)

SUSPEND_AFTER = 5
"""Failed deliveries in a row after which a channel is suspended."""

NO_RECIPIENT = "no recipient (e.g. the manager has no e-mail)"

DEFAULT_SLEEP: Callable[[float], None] = time.sleep
"""The back-off's clock, used when `send_notification` is given no `sleep=`."""

Status = Delivery.Status


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: Delivery.Status
    attempts: int = 0
    error: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = ""


def send_notification(
    channel: str,
    template: str,
    context: Mapping[str, Any],
    to: Sequence[str] | str | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
    http: httpx2.Client | None = None,
) -> Delivery:
    """Render `template` with `context`, send it through `channel`, and record the Delivery.

    `to` adds e-mail recipients (ignored by webhook channels). `sleep` is the back-off's wait and
    `http` the client for webhook channels (one is made per send when None). Raises ValueError
    only for an unknown channel or template name.
    """
    row = _channel(channel)
    chosen = _template(template)
    if row.suspended_reason:
        reason = f"the channel is suspended: {row.suspended_reason}"
        return _record(row, chosen.name, _Outcome(Status.SKIPPED, error=reason))
    request = _Request(
        template=chosen,
        context=_safe_links(context),
        extra=(to,) if isinstance(to, str) else tuple(to or ()),
        sleep=sleep or DEFAULT_SLEEP,
        http=http,
    )
    return _record(row, chosen.name, _deliver(row, request))


def validate_channel(name: str, template: str | None = None) -> None:
    """Raise ValueError (an admin's message) unless the channel, and the template, exist."""
    _channel(name)
    if template is not None:
        _template(template)


def reset_channel(name: str) -> Channel:
    """Resume a suspended channel and clear its failure count."""
    row = _channel(name)
    row.consecutive_failures, row.suspended_reason = 0, ""
    row.save(update_fields=["consecutive_failures", "suspended_reason", "updated"])
    log.info("channel reset", channel=name)
    return row


def channel_status() -> list[dict[str, Any]]:
    """Every channel with its health and last delivery, for a listing (no secret in it)."""
    return [_status(row) for row in Channel.objects.order_by("name")]


def _status(row: Channel) -> dict[str, Any]:
    last = row.deliveries.order_by("-created", "-pk").first()
    state = "suspended" if row.suspended_reason else "failing" if row.consecutive_failures else "ok"
    return {
        "name": row.name,
        "kind": row.kind,
        "state": state,
        "consecutive_failures": row.consecutive_failures,
        "suspended_reason": row.suspended_reason,
        "destination": _destination(row),
        "last_delivery": None
        if last is None
        else {
            "status": last.status,
            "template": last.template,
            "created": last.created.isoformat(),
            "attempts": last.attempts,
            "error": last.error,
        },
    }


def _destination(row: Channel) -> str:
    """Where the channel sends, in words that reveal no secret."""
    try:
        settings = parse_settings(row.kind, row.settings)
    except ValidationError:
        return "(invalid settings)"
    match settings:
        case EmailSettings():
            return f"smtp {settings.host}:{settings.effective_port} to {', '.join(settings.to)}"
        case WebhookSettings():
            return f"webhook to {urlsplit(settings.url).hostname}"
        case ChatSettings():
            if settings.url_env:
                return f"{row.kind} webhook, URL in {settings.url_env}"
            return f"{row.kind} webhook to {urlsplit(settings.url or '').hostname}"


def _channel(name: str) -> Channel:
    row = Channel.objects.filter(name=name).first()
    if row is None:
        known = ", ".join(Channel.objects.order_by("name").values_list("name", flat=True))
        raise ValueError(f"unknown channel '{name}' (known: {known or 'none'})")
    return row


def _template(name: str) -> MessageTemplate:
    if name not in DEFAULT_TEMPLATES:
        known = ", ".join(sorted(DEFAULT_TEMPLATES))
        raise ValueError(f"unknown template '{name}' (known: {known})")
    return DEFAULT_TEMPLATES[name]


@dataclass(frozen=True, slots=True)
class _Request:
    """One notification on its way: what to send, and the seams to send it with."""

    template: MessageTemplate
    context: Mapping[str, Any]
    extra: tuple[str, ...]
    sleep: Callable[[float], None]
    http: httpx2.Client | None


def _deliver(row: Channel, request: _Request) -> _Outcome:
    try:
        settings = parse_settings(row.kind, row.settings)
    except ValidationError as error:
        reason = f"the channel's settings are invalid: {explain(error)}"
        return _Outcome(Status.FAILED, error=reason)
    try:
        outcome = _dispatch(row.kind, settings, request)
    except (RenderError, MissingSecretError, webhook.SecretFormatError, ValueError) as error:
        outcome = _Outcome(Status.FAILED, error=str(error))
    except Exception as error:
        # A bug here must not break the import or run that notifies: it is logged and recorded.
        log.exception("notification failed unexpectedly", channel=row.name)
        outcome = _Outcome(Status.FAILED, error=f"unexpected error ({type(error).__name__})")
    return replace(outcome, error=_scrub(outcome.error, _secret_values(settings)))


def _dispatch(kind: str, settings: ChannelSettings, request: _Request) -> _Outcome:
    context = request.context
    message = render_message(request.template, context, settings.subject_prefix)
    match settings:
        case EmailSettings():
            outcome = _send_email(settings, message, request)
        case WebhookSettings():
            event = str(context.get("event") or f"hrsync.{request.template.name}")
            body = webhook.standard_webhook_body(event, message, plain_data(context))
            key = webhook.webhook_key(read_secret("secret_env", settings.secret_env))
            outcome = _post(
                settings, settings.url, body, request, webhook.signed_headers(key, body)
            )
        case ChatSettings():
            build = webhook.slack_body if kind == Channel.Kind.SLACK else webhook.teams_body
            body = build(message, _link(context))
            outcome = _post(settings, _chat_url(settings), body, request, dict)
    return replace(outcome, subject=message.subject)


def _send_email(settings: EmailSettings, message: RenderedMessage, request: _Request) -> _Outcome:
    recipients = email.resolve_recipients(settings.to, request.context, request.extra)
    if not recipients:
        return _Outcome(Status.SKIPPED, error=NO_RECIPIENT)
    password = read_secret("password_env", settings.password_env) if settings.password_env else None
    try:
        email.send_email(settings, password, message, recipients)
    except email.EmailError as error:
        return _Outcome(Status.FAILED, 1, str(error), tuple(recipients))
    return _Outcome(Status.SENT, 1, recipients=tuple(recipients))


def _post(
    settings: WebhookSettings | ChatSettings,
    url: str,
    body: bytes,
    request: _Request,
    headers: Callable[[], dict[str, str]],
) -> _Outcome:
    client = request.http or httpx2.Client(
        timeout=settings.timeout_seconds, verify=settings.tls_verify, follow_redirects=False
    )
    try:
        result = webhook.post_with_retries(
            client,
            url,
            body,
            max_attempts=settings.max_attempts,
            sleep=request.sleep,
            extra_headers=headers,
        )
    finally:
        if request.http is None:
            client.close()
    status = Status.SENT if result.is_sent else Status.FAILED
    # The host only: a Teams or Slack URL carries its secret in the path or the query.
    return _Outcome(status, result.attempts, result.error, (urlsplit(url).hostname or "",))


def _chat_url(settings: ChatSettings) -> str:
    if settings.url is not None:
        return settings.url
    assert settings.url_env is not None  # the model requires one of the two
    url = read_secret("url_env", settings.url_env)
    check_url(url, f"the environment variable {settings.url_env} (url_env)")
    return url


def _link(context: Mapping[str, Any]) -> str | None:
    ticket = context.get("ticket")
    url = ticket.get("url") if isinstance(ticket, Mapping) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _safe_links(context: Mapping[str, Any]) -> Mapping[str, Any]:
    """The context without a ticket URL that is not http(s): no `javascript:` link in a mail."""
    ticket = context.get("ticket")
    if not isinstance(ticket, Mapping) or "url" not in ticket or _link(context):
        return context
    return {**context, "ticket": {key: value for key, value in ticket.items() if key != "url"}}


def _secret_values(settings: ChannelSettings) -> list[str]:
    """Every secret this channel may use, so an error text can be scrubbed of them."""
    names = [getattr(settings, field, None) for field in ("password_env", "secret_env", "url_env")]
    values = [value for name in names if name and (value := _env(name))]
    url = getattr(settings, "url", None)
    if isinstance(settings, ChatSettings) and url:
        values.append(url)
    return values


def _env(name: str) -> str | None:
    try:
        return read_secret("", name)
    except MissingSecretError:
        return None


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "[secret]")
    return text


def _record(row: Channel, template: str, outcome: _Outcome) -> Delivery:
    """Write the Delivery and update the channel's health in one transaction."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=row.pk)
        _update_health(channel, outcome)
        delivery = Delivery.objects.create(
            channel=channel,
            template=template,
            recipients=list(outcome.recipients),
            subject=outcome.subject[:300],
            status=outcome.status,
            attempts=outcome.attempts,
            error=outcome.error,
        )
    log.info(
        "notification",
        channel=channel.name,
        template=template,
        status=outcome.status,
        attempts=outcome.attempts,
        error=outcome.error or None,
    )
    return delivery


def _update_health(channel: Channel, outcome: _Outcome) -> None:
    if outcome.status == Status.SENT and channel.consecutive_failures:
        channel.consecutive_failures = 0
    elif outcome.status == Status.FAILED:
        channel.consecutive_failures += 1
        if channel.consecutive_failures >= SUSPEND_AFTER and not channel.suspended_reason:
            channel.suspended_reason = (
                f"{channel.consecutive_failures} deliveries in a row failed; the last: "
                f"{outcome.error}. Fix the channel, then reset it."
            )
            log.warning("channel suspended", channel=channel.name, reason=channel.suspended_reason)
    else:
        return
    channel.save(update_fields=["consecutive_failures", "suspended_reason", "updated"])
