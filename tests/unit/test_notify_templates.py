"""Notification templates and message bodies: pure rendering, no server and no database."""

from __future__ import annotations

import datetime as dt
import enum
import json
from decimal import Decimal
from typing import Any

import pytest
from django.utils.safestring import mark_safe

from hrsync.app.notify import DEFAULT_TEMPLATES
from hrsync.app.notify.templates import (
    MAX_DEPTH,
    MAX_RENDERED_CHARS,
    MessageTemplate,
    RenderedMessage,
    RenderError,
    check_syntax,
    plain_data,
    render_line,
    render_message,
)
from hrsync.app.notify.webhook import (
    backoff_delay,
    sign,
    slack_body,
    standard_webhook_body,
    teams_body,
    webhook_key,
)
from hrsync.connectors.retry_after import retry_after_seconds

FULL_CONTEXT: dict[str, Any] = {
    "event": "ticket.closed",
    "ticket": {"id": 42, "kind": "joiner", "status": "closed", "title": "Joiner: Anna Berg"},
    "person": {
        "name": "Anna Berg",
        "given_name": "Anna",
        "family_name": "Berg",
        "employee_number": "1001",
        "email": "anna.berg@example.org",
        "title": "Engineer",
        "department": "IT",
        "office": "Umeå",
        "company": "Example AB",
        "start_date": dt.date(2025, 3, 1),
        "end_date": None,
    },
    "manager": {"name": "Bo Ek", "email": "bo.ek@example.org", "employee_number": "900"},
    "connection": {"key": "ad", "type": "active_directory"},
    "outcome": {
        "status": "failed",
        "error": "the directory refused the password",
        "hint": "check the password policy",
        "ref": "CN=Anna Berg,OU=Users,DC=example,DC=org",
        "username": "anbe",
        "base_dn": "OU=Users,DC=example,DC=org",
    },
    "run": {"id": 7, "counts": {"disable": 40, "create": 1}, "reasons": ["40 disables (max 10)"]},
}


def _template(text: str, html: str = "", subject: str = "s") -> MessageTemplate:
    return MessageTemplate(name="t", subject=subject, text=text, html=html)


class Person:
    """A caller's object with a method that must never run from a template."""

    def __init__(self) -> None:
        self.deleted = False
        self.name = "attribute"

    def delete(self) -> str:
        self.deleted = True
        return "DELETED"

    def __str__(self) -> str:
        return "Anna as text"


# Default templates.


def test_the_three_default_templates_exist() -> None:
    assert set(DEFAULT_TEMPLATES) >= {"joiner_provisioned", "provisioning_failed", "run_held"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "joiner_provisioned",
            ["Hello Bo Ek", "Anna Berg", "2025-03-01", "anbe", "Engineer", "IT"],
        ),
        (
            "provisioning_failed",
            ["Anna Berg", "ad", "refused the password", "password policy", "42"],
        ),
        (
            "run_held",
            ["run 7", "ad", "disable: 40", "40 disables (max 10)", "hrsync runs approve 7"],
        ),
    ],
)
def test_default_templates_say_what_their_reader_needs(name: str, expected: list[str]) -> None:
    message = render_message(DEFAULT_TEMPLATES[name], FULL_CONTEXT)
    for phrase in expected:
        assert phrase in message.text
    assert "\n" not in message.subject
    assert message.html.startswith("<!doctype html>")


@pytest.mark.parametrize("name", sorted(DEFAULT_TEMPLATES))
def test_default_templates_render_an_empty_context_sensibly(name: str) -> None:
    message = render_message(DEFAULT_TEMPLATES[name], {})
    assert message.subject
    assert "None" not in message.text
    assert "\n\n\n" not in message.text


def test_subject_prefix_is_put_before_the_subject() -> None:
    message = render_message(DEFAULT_TEMPLATES["run_held"], FULL_CONTEXT, "[hrsync] ")
    assert message.subject == "[hrsync] Run held by the safety gate: ad"


# Safety.


def test_undefined_variables_render_empty() -> None:
    message = render_message(_template("a{{ nothing }}b{{ person.nothing.deeper }}c"), {})
    assert message.text == "abc"


def test_no_method_of_a_context_object_runs_it_renders_as_its_text() -> None:
    person = Person()
    template = _template("{{ person }}|{{ person.delete }}|{{ person.name }}")
    assert render_message(template, {"person": person}).text == "Anna as text||"
    assert person.deleted is False


def test_a_template_cannot_change_the_data_it_renders() -> None:
    context = {"person": {"name": "Anna"}, "items": [1, 2]}
    template = _template("{{ person.clear }}{{ person.popitem }}{{ items.clear }}{{ person.name }}")
    assert render_message(template, context).text == "Anna"
    assert context == {"person": {"name": "Anna"}, "items": [1, 2]}


def test_html_is_escaped_in_the_html_part_only() -> None:
    template = _template("{{ name }}", "<p>{{ name }}</p>", "{{ name }}")
    message = render_message(template, {"name": "<script>alert(1)</script> & co"})
    assert message.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>"
    assert message.text == "<script>alert(1)</script> & co"


def test_a_string_marked_safe_by_a_caller_is_still_escaped() -> None:
    message = render_message(_template("", "{{ name }}"), {"name": mark_safe("<b>x</b>")})
    assert message.html == "&lt;b&gt;x&lt;/b&gt;"


def test_templates_reach_no_file() -> None:
    with pytest.raises(RenderError):
        render_message(_template('{% include "/etc/passwd" %}'), {})


def test_a_syntax_error_is_reported_in_words() -> None:
    with pytest.raises(RenderError, match="syntax"):
        check_syntax("{{ manager.email|nosuchfilter }}")
    with pytest.raises(RenderError, match="syntax"):
        check_syntax("{% nosuchtag %}")


def test_rendered_output_is_bounded() -> None:
    message = render_message(
        _template("{{ big }}{{ big }}", "{{ big }}", "{{ big }}"), {"big": "x" * 150_000}
    )
    assert len(message.text) <= MAX_RENDERED_CHARS
    assert len(message.html) <= MAX_RENDERED_CHARS
    assert len(message.subject) <= MAX_RENDERED_CHARS
    assert message.text.endswith(f"longer than {MAX_RENDERED_CHARS} characters)")


def test_subject_is_one_line_whatever_the_data() -> None:
    message = render_message(_template("", subject="Hi {{ name }}"), {"name": "a\r\nBcc: x@y"})
    assert message.subject == "Hi a Bcc: x@y"


def test_render_line_renders_an_address_template() -> None:
    assert render_line("{{ manager.email }}", FULL_CONTEXT) == "bo.ek@example.org"
    assert render_line("{{ manager.email }}", {}) == ""


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (3, 3),
        (Colour.RED, 1),
        (1.5, 1.5),
        ("text", "text"),
        (dt.date(2025, 3, 1), "2025-03-01"),
        (Decimal("2.50"), "2.50"),
        ((1, "a"), [1, "a"]),
        ({1: {"b": [dt.date(2025, 1, 2)]}}, {"1": {"b": ["2025-01-02"]}}),
        (Person(), "Anna as text"),
    ],
)
def test_plain_data_keeps_json_types_and_turns_the_rest_into_text(
    value: Any, expected: Any
) -> None:
    result = plain_data(value)
    assert result == expected
    assert type(result) is type(expected)


def test_plain_data_stops_at_a_depth() -> None:
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(MAX_DEPTH + 3):
        inner["a"] = {}
        inner = inner["a"]
    json.dumps(plain_data(nested))  # finite and serialisable
    depth, level = 0, plain_data(nested)
    while isinstance(level, dict):
        level, depth = level["a"], depth + 1
    assert depth == MAX_DEPTH


# Message bodies and signing.

MESSAGE = RenderedMessage(
    subject="Run held: ad", text="line one\nline two\n\n<!channel> & co", html=""
)


def test_standard_webhook_signature_matches_the_specification_test_vector() -> None:
    key = webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_secret_without_the_prefix_is_used_as_it_is() -> None:
    assert webhook_key("plain-secret") == b"plain-secret"


def test_generic_webhook_body_carries_the_event_the_message_and_the_context() -> None:
    body = json.loads(standard_webhook_body("ticket.closed", MESSAGE, {"ticket": {"id": 1}}))
    assert body["type"] == "ticket.closed"
    assert body["timestamp"].endswith("Z")
    assert body["data"] == {"ticket": {"id": 1}, "subject": "Run held: ad", "text": MESSAGE.text}


def test_slack_body_escapes_mentions_and_has_a_header_and_sections() -> None:
    body = json.loads(slack_body(MESSAGE, "https://hrsync.example.org/tickets/1"))
    assert body["text"] == "Run held: ad"
    header, section, actions = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "Run held: ad"}}
    assert section["text"]["type"] == "mrkdwn"
    assert "&lt;!channel&gt; &amp; co" in section["text"]["text"]
    assert actions["elements"][0]["url"] == "https://hrsync.example.org/tickets/1"


def test_slack_sections_stay_under_slacks_limit() -> None:
    long = RenderedMessage(subject="s" * 400, text="\n".join(["word " * 100] * 100), html="")
    body = json.loads(slack_body(long, None))
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    assert all(len(block["text"]["text"]) <= 3000 for block in body["blocks"][1:])


def test_teams_body_is_a_workflows_message_with_an_adaptive_card() -> None:
    body = json.loads(teams_body(MESSAGE, None))
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    texts = [block["text"] for block in card["body"]]
    assert texts == ["Run held: ad", "line one", "line two", "<!channel> & co"]
    assert card["body"][3]["spacing"] == "Medium"  # a new paragraph
    assert "actions" not in card


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [(1, None, 1.0), (2, None, 2.0), (3, None, 4.0), (20, None, 60.0), (1, 7.0, 7.0)],
)
def test_backoff_grows_and_honours_retry_after(
    attempt: int, retry_after: float | None, expected: float
) -> None:
    assert backoff_delay(attempt, retry_after) == expected


@pytest.mark.parametrize(
    ("header", "expected"), [(None, None), ("", None), ("12", 12.0), ("soon", None)]
)
def test_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header) == expected


def test_retry_after_as_a_date() -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    seconds = retry_after_seconds(when.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    assert seconds is not None
    assert 25 <= seconds <= 31
