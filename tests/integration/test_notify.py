"""Notifications against real parts on loopback: an aiosmtpd sink (STARTTLS, implicit TLS, AUTH)
and an HTTP receiver that verifies Standard Webhooks signatures on its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.mail_sink import PASSWORD, USERNAME, MailSink, free_port, run_mail_sink
from tests.webhook_receiver import WebhookReceiver, run_webhook_receiver

from hrsync.app.config_errors import ConfigError
from hrsync.app.models import Channel, Delivery
from hrsync.app.notify import (
    SUSPEND_AFTER,
    channel_status,
    load_channels,
    reset_channel,
    send_notification,
    validate_channel,
)

pytestmark = pytest.mark.django_db

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CONTEXT: dict[str, Any] = {
    "event": "ticket.closed",
    "ticket": {"id": 42, "kind": "joiner", "url": "https://hrsync.example.org/tickets/42"},
    "person": {"name": "Anna <script>alert(1)</script> Berg", "start_date": "2025-03-01"},
    "manager": {"name": "Bo Ek", "email": "bo.ek@example.org"},
    "connection": {"key": "ad", "type": "active_directory"},
    "outcome": {"status": "applied", "username": "anbe"},
}


@pytest.fixture
def mail_sink(tmp_path: Path) -> Iterator[MailSink]:
    with run_mail_sink(tmp_path) as sink:
        yield sink


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with run_webhook_receiver(secret=SECRET) as running:
        yield running


def email_channel(sink: MailSink, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> str:
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    settings = {
        "type": "email",
        "host": sink.host,
        "port": sink.port,
        "security": sink.mode,
        "username": USERNAME,
        "password_env": "SMTP_PASSWORD",
        "from_address": "hrsync <hrsync@example.org>",
        "to": ["{{ manager.email }}"],
        "tls_verify": False,
        "subject_prefix": "[hrsync] ",
    }
    load_channels({"managers": settings | overrides})
    return "managers"


def webhook_channel(url: str, monkeypatch: pytest.MonkeyPatch, kind: str = "webhook") -> str:
    if kind == "webhook":
        monkeypatch.setenv("HOOK_SECRET", SECRET)
        load_channels({"hook": {"type": "webhook", "url": url, "secret_env": "HOOK_SECRET"}})
    else:
        monkeypatch.setenv("CHAT_URL", url)
        load_channels({"hook": {"type": kind, "url_env": "CHAT_URL"}})
    return "hook"


# E-mail.


@pytest.mark.parametrize("mechanisms", [("LOGIN", "PLAIN"), ("LOGIN",), ("PLAIN",)])
def test_email_over_starttls_with_auth_is_delivered_and_escaped_in_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mechanisms: tuple[str, ...]
) -> None:
    with run_mail_sink(tmp_path, mechanisms=mechanisms) as sink:
        name = email_channel(sink, monkeypatch)
        delivery = send_notification(name, "joiner_provisioned", CONTEXT)
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 1, "")
    assert delivery.recipients == ["bo.ek@example.org"]
    (mail,) = sink.mails
    assert mail.login == USERNAME
    assert mail.rcpt_tos == ["bo.ek@example.org"]
    assert mail.message["Subject"].startswith("[hrsync] Anna <script>alert(1)</script> Berg starts")
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert "Username:    anbe" in mail.part("text/plain")
    html = mail.part("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


# aiosmtpd's AUTH-needs-TLS check only knows STARTTLS; implicit TLS is TLS all along.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_over_implicit_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with run_mail_sink(tmp_path, mode="ssl") as sink:
        delivery = send_notification(email_channel(sink, monkeypatch), "run_held", CONTEXT)
    assert delivery.status == "sent"
    assert sink.mails[0].message["Subject"] == "[hrsync] Run held by the safety gate: ad"


def test_recipients_from_the_call_are_added_and_bad_ones_dropped(
    mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = email_channel(mail_sink, monkeypatch, to=["{{ manager.email }}", "it@example.org"])
    extra = ["not an address", "IT@example.org", "x@example.org"]
    delivery = send_notification(name, "provisioning_failed", CONTEXT, to=extra)
    assert delivery.recipients == ["bo.ek@example.org", "it@example.org", "x@example.org"]
    assert mail_sink.mails[0].rcpt_tos == delivery.recipients


def test_no_recipient_is_a_skipped_delivery(
    mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = email_channel(mail_sink, monkeypatch)
    delivery = send_notification(name, "joiner_provisioned", {**CONTEXT, "manager": {"name": "Bo"}})
    assert (delivery.status, delivery.attempts) == ("skipped", 0)
    assert delivery.error == "no recipient (e.g. the manager has no e-mail)"
    assert not mail_sink.mails
    assert Channel.objects.get(name=name).consecutive_failures == 0


def test_refused_login_fails_in_plain_words_without_the_password(
    mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = email_channel(mail_sink, monkeypatch)
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-password-123")
    delivery = send_notification(name, "joiner_provisioned", CONTEXT)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert f"refused the login of {USERNAME}" in delivery.error
    assert "SMTP_PASSWORD" in delivery.error
    assert "wrong-password-123" not in delivery.error
    assert mail_sink.auth_failures and not mail_sink.mails


def test_a_channel_failing_five_times_is_suspended_then_skipped_until_reset(
    mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = email_channel(mail_sink, monkeypatch)
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    statuses = [send_notification(name, "run_held", CONTEXT).status for _ in range(SUSPEND_AFTER)]
    assert statuses == ["failed"] * SUSPEND_AFTER
    channel = Channel.objects.get(name=name)
    assert channel.consecutive_failures == SUSPEND_AFTER
    assert "refused the login" in channel.suspended_reason

    tried = len(mail_sink.auth_failures)
    skipped = send_notification(name, "run_held", CONTEXT)
    assert (skipped.status, skipped.attempts) == ("skipped", 0)
    assert skipped.error.startswith("the channel is suspended: 5 deliveries in a row failed")
    assert len(mail_sink.auth_failures) == tried  # the suspended channel did not try
    assert channel_status()[0]["state"] == "suspended"

    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    reset_channel(name)
    assert send_notification(name, "run_held", CONTEXT).status == "sent"
    assert channel_status()[0]["state"] == "ok"


def test_a_sent_delivery_resets_the_failure_count(
    mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = email_channel(mail_sink, monkeypatch)
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    send_notification(name, "run_held", CONTEXT)
    assert channel_status()[0]["state"] == "failing"
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    send_notification(name, "run_held", CONTEXT)
    assert Channel.objects.get(name=name).consecutive_failures == 0


def test_an_unverifiable_certificate_is_refused_by_default(
    mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = email_channel(mail_sink, monkeypatch, tls_verify=True)
    delivery = send_notification(name, "run_held", CONTEXT)
    assert delivery.status == "failed"
    assert "certificate of the SMTP server" in delivery.error
    assert "tls_verify = false" in delivery.error


def test_an_unreachable_server_and_a_missing_secret_fail_in_plain_words(
    mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    email_channel(mail_sink, monkeypatch, port=free_port())
    delivery = send_notification("managers", "run_held", CONTEXT)
    assert "could not connect to the SMTP server 127.0.0.1:" in delivery.error
    monkeypatch.delenv("SMTP_PASSWORD")
    delivery = send_notification("managers", "run_held", CONTEXT)
    assert delivery.error == "the environment variable SMTP_PASSWORD (password_env) is not set"


# Webhooks.


def test_generic_webhook_is_signed_per_standard_webhooks(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = send_notification(webhook_channel(receiver.url, monkeypatch), "run_held", CONTEXT)
    assert (delivery.status, delivery.attempts, delivery.recipients) == ("sent", 1, ["127.0.0.1"])
    (request,) = receiver.requests
    assert request.is_verified is True
    assert request.headers["webhook-id"].startswith("msg_")
    body = request.json()
    assert body["type"] == "ticket.closed"
    assert body["data"]["subject"] == "Run held by the safety gate: ad"
    assert body["data"]["person"]["name"] == CONTEXT["person"]["name"]
    assert "hrsync runs approve RUN" in body["data"]["text"]


def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = webhook_channel(receiver.url, monkeypatch)
    monkeypatch.setenv("HOOK_SECRET", "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    delivery = send_notification(name, "run_held", CONTEXT, sleep=pytest.fail)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error == "the receiver answered 401 Unauthorized: bad signature"
    assert receiver.requests[0].is_verified is False


def test_503_twice_then_200_takes_three_attempts_with_growing_waits(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.fail_next = 2
    sleeps: list[float] = []
    name = webhook_channel(receiver.url, monkeypatch)
    delivery = send_notification(name, "run_held", CONTEXT, sleep=sleeps.append)
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert sleeps == [1.0, 2.0]
    assert [r.status for r in receiver.requests] == [503, 503, 200]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert all(r.is_verified for r in receiver.requests)


def test_retry_after_is_honoured_and_a_long_one_is_given_up_on(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = webhook_channel(receiver.url, monkeypatch)
    receiver.fail_next, receiver.fail_status, receiver.retry_after = 1, 429, "3"
    sleeps: list[float] = []
    assert send_notification(name, "run_held", CONTEXT, sleep=sleeps.append).status == "sent"
    assert sleeps == [3.0]
    receiver.fail_next, receiver.retry_after = 1, "3600"
    delivery = send_notification(name, "run_held", CONTEXT, sleep=pytest.fail)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "asks to wait 3600 s (Retry-After)" in delivery.error


GAVE_UP = "gave up after 3 attempts: the receiver answered 503 Service Unavailable: busy"
REFUSED = "the receiver answered 400 Bad Request: invalid_payload"


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [(503, "busy", (3, [1.0, 2.0], GAVE_UP)), (400, "invalid_payload", (1, [], REFUSED))],
)
def test_a_failing_receiver_is_retried_only_when_that_can_help(
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    text: str,
    expected: Any,
) -> None:
    receiver.fail_next, receiver.fail_status, receiver.fail_body = 99, status, text
    sleeps: list[float] = []
    name = webhook_channel(receiver.url, monkeypatch)
    delivery = send_notification(name, "run_held", CONTEXT, sleep=sleeps.append)
    assert delivery.status == "failed"
    assert (delivery.attempts, sleeps, delivery.error) == expected


def test_an_unreachable_receiver_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{free_port()}/hook"
    delivery = send_notification(
        webhook_channel(url, monkeypatch), "run_held", CONTEXT, sleep=sleeps.append
    )
    assert (delivery.status, delivery.attempts, len(sleeps)) == ("failed", 3, 2)
    assert delivery.error.startswith("gave up after 3 attempts: could not connect (ConnectError")


# Slack and Teams.


def test_slack_gets_its_message_format_and_the_url_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with run_webhook_receiver() as slack:
        delivery = send_notification(
            webhook_channel(slack.url, monkeypatch, "slack"), "provisioning_failed", CONTEXT
        )
        slack.fail_next, slack.fail_status, slack.fail_body = 1, 404, "no_service"
        failed = send_notification("hook", "provisioning_failed", CONTEXT)
    assert delivery.status == "sent"
    body = slack.requests[0].json()
    assert body["text"].startswith("Provisioning failed on ad: Anna &lt;script&gt;")
    assert [block["type"] for block in body["blocks"]] == ["header", "section", "actions"]
    assert "webhook-signature" not in slack.requests[0].headers
    assert failed.error == "the receiver answered 404 Not Found: no_service"
    for row in Delivery.objects.all():
        assert "secret-token" not in f"{row.error} {row.recipients}"
    assert "secret-token" not in str(channel_status())


def test_teams_gets_an_adaptive_card(monkeypatch: pytest.MonkeyPatch) -> None:
    with run_webhook_receiver(ok_status=202, ok_body="") as teams:
        delivery = send_notification(
            webhook_channel(teams.url, monkeypatch, "teams"), "run_held", CONTEXT
        )
    assert delivery.status == "sent"
    body = teams.requests[0].json()
    assert body["type"] == "message"
    card = body["attachments"][0]["content"]
    assert body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert (card["type"], card["version"], card["body"][0]["weight"]) == (
        "AdaptiveCard",
        "1.4",
        "Bolder",
    )
    assert card["actions"][0]["url"] == "https://hrsync.example.org/tickets/42"


def test_a_missing_url_variable_fails_in_plain_words(monkeypatch: pytest.MonkeyPatch) -> None:
    load_channels({"chat": {"type": "teams", "url_env": "NO_SUCH_TEAMS_URL"}})
    delivery = send_notification("chat", "run_held", CONTEXT)
    assert delivery.error == "the environment variable NO_SUCH_TEAMS_URL (url_env) is not set"


# Configuration and names.


def test_loading_channels_is_idempotent_and_an_update_gives_a_fresh_start() -> None:
    entry = {"type": "webhook", "url": "https://example.org/hook", "secret_env": "HOOK_SECRET"}
    assert load_channels({"hook": entry}) == [("channels.hook", "created")]
    assert load_channels({"hook": entry}) == [("channels.hook", "unchanged")]
    Channel.objects.filter(name="hook").update(consecutive_failures=5, suspended_reason="x")
    assert load_channels({"hook": entry | {"max_attempts": 5}}) == [("channels.hook", "updated")]
    channel = Channel.objects.get(name="hook")
    assert (channel.kind, channel.settings["max_attempts"], channel.suspended_reason) == (
        "webhook",
        5,
        "",
    )
    assert "type" not in channel.settings


EMAIL = {"type": "email", "host": "smtp.example.org", "from_address": "hrsync@example.org"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"type": "pager"},
            "channels.c: unknown type 'pager' (known: email, slack, teams, webhook)",
        ),
        ({"host": "x"}, "channels.c: type is missing"),
        (EMAIL | {"username": "u", "password": "p"}, "name that with password_env (not password)"),
        ({"type": "webhook", "url": "https://x", "secret": "s"}, "with secret_env (not secret)"),
        ({"type": "email"}, "channels.c: host: is required; from_address: is required"),
        (EMAIL | {"username": "u"}, "username and password_env go together"),
        (EMAIL | {"username": "u", "password_env": "P", "security": "none"}, "only sent over TLS"),
        (EMAIL | {"to": ["nobody"]}, "to: 'nobody' is not an e-mail address"),
        (EMAIL | {"to": ["{{ manager.email|nofilter }}"]}, "template syntax error"),
        (EMAIL | {"from_address": "hrsync"}, "from_address: 'hrsync' is not an e-mail address"),
        (EMAIL | {"colour": "red"}, "channels.c: colour: is not a known setting"),
        ({"type": "webhook", "url": "https://x"}, "secret_env: is required"),
        ({"type": "webhook", "url": "ftp://x", "secret_env": "S"}, "url must be an http"),
        ({"type": "slack", "url": "https://x", "url_env": "U"}, "url_env (preferred) or url"),
        ({"type": "teams", "url_env": "a b"}, "url_env: must name an environment variable"),
    ],
)
def test_invalid_channels_are_refused_with_a_clear_message(
    entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_channels({"c": entry})
    assert message in str(error.value)
    assert not Channel.objects.exists()
    with pytest.raises(ConfigError, match=r"channels\.it team: a channel name is 1-64 letters"):
        load_channels({"it team": EMAIL})


def test_unknown_channel_and_template_names_raise_value_error() -> None:
    load_channels({"it": EMAIL | {"to": ["it@example.org"]}})
    validate_channel("it", "provisioning_failed")
    with pytest.raises(ValueError, match=r"unknown channel 'nope' \(known: it\)"):
        send_notification("nope", "run_held", {})
    with pytest.raises(ValueError, match="unknown template 'nope'"):
        validate_channel("it", "nope")
    assert channel_status()[0]["destination"] == "smtp smtp.example.org:587 to it@example.org"
