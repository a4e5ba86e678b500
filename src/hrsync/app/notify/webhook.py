"""HTTP channels: a generic webhook signed per Standard Webhooks, Slack and Teams incoming webhooks.

The body builders are pure; `post_with_retries` is the one place that talks HTTP. A delivery is
retried with exponential back-off on connection errors, timeouts, 429 and 5xx (honouring
Retry-After); any other answer outside 2xx fails at once, since asking again changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2

from hrsync.app.notify.templates import PlainData, RenderedMessage
from hrsync.connectors.retry_after import retry_after_seconds

SECRET_PREFIX = "whsec_"  # noqa: S105 (the spec's prefix, not a secret)
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
"""The longest wait between attempts; a receiver asking for more is given up on, not obeyed."""
MAX_SHOWN = 200
"""How much of a receiver's error answer is quoted in the delivery log."""
SLACK_HEADER_CHARS = 150  # Slack: a header block's text is at most 150 characters
SLACK_SECTION_CHARS = 3000  # Slack: a section block's text is at most 3,000 characters
SLACK_MAX_BLOCKS = 50
TEAMS_TEXT_CHARS = 20_000  # Teams refuses a message over about 28 KB
USER_AGENT = "hrsync notifications"

Sleep = Callable[[float], None]


class SecretFormatError(Exception):
    """The webhook secret is not usable (a `whsec_` prefix followed by invalid base64)."""


@dataclass(frozen=True, slots=True)
class PostResult:
    """How a delivery over HTTP went: sent or not, after how many attempts, and why not."""

    is_sent: bool
    attempts: int
    error: str = ""


@dataclass(frozen=True, slots=True)
class _Retry:
    reason: str
    retry_after: float | None = None


# Bodies.


def standard_webhook_body(event: str, message: RenderedMessage, data: PlainData) -> bytes:
    """`{"type", "timestamp", "data": {"subject", "text", **context}}` as compact JSON."""
    context = data if isinstance(data, dict) else {}
    payload = {
        "type": event,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": {**context, "subject": message.subject, "text": message.text},
    }
    return _json(payload)


def slack_body(message: RenderedMessage, link: str | None) -> bytes:
    """An incoming-webhook message: `text` for notifications, blocks for the message itself."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(message.subject, SLACK_HEADER_CHARS)},
        }
    ]
    for chunk in _chunks(slack_escape(message.text), SLACK_SECTION_CHARS):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    if link:
        button = {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": link}
        blocks.append({"type": "actions", "elements": [button]})
    text = _clip(slack_escape(message.subject), SLACK_SECTION_CHARS)
    return _json({"text": text, "blocks": blocks[:SLACK_MAX_BLOCKS]})


def slack_escape(text: str) -> str:
    """Slack reads `<…>` as links and mentions (`<!channel>`): the three characters are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams_body(message: RenderedMessage, link: str | None) -> bytes:
    """A Workflows incoming-webhook message: one Adaptive Card, a text block per line."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.subject,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    starts_paragraph = True
    for line in _clip(message.text, TEAMS_TEXT_CHARS).splitlines():
        if not line.strip():
            starts_paragraph = True
            continue
        spacing = "Medium" if starts_paragraph else "None"
        body.append({"type": "TextBlock", "text": line, "wrap": True, "spacing": spacing})
        starts_paragraph = False
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": link}]
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": card,
    }
    return _json({"type": "message", "attachments": [attachment]})


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size`, cut at line ends where possible."""
    pieces: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > 0 else size
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text.strip() else pieces


# Standard Webhooks signing.


def webhook_key(secret: str) -> bytes:
    """The HMAC key: the base64 after `whsec_` decoded (the spec's form), else the raw text."""
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode("utf-8")
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as error:
        raise SecretFormatError(
            "the webhook secret has a whsec_ prefix but no valid base64"
        ) from error


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(key: bytes, body: bytes) -> Callable[[], dict[str, str]]:
    """Headers per attempt: one `webhook-id` for every retry, a fresh timestamp and signature
    each time (receivers reject timestamps older than a few minutes)."""
    message_id = f"msg_{uuid.uuid4().hex}"

    def headers() -> dict[str, str]:
        timestamp = int(time.time())
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(key, message_id, timestamp, body),
        }

    return headers


# Delivery.


def post_with_retries(
    http: httpx2.Client,
    url: str,
    body: bytes,
    *,
    max_attempts: int,
    sleep: Sleep,
    extra_headers: Callable[[], dict[str, str]] = dict,
) -> PostResult:
    """POST `body` as JSON until a 2xx, a final answer, or `max_attempts` tries."""
    for attempt in range(1, max_attempts + 1):
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        outcome = _attempt(http, url, body, headers | extra_headers())
        if isinstance(outcome, PostResult):
            return PostResult(outcome.is_sent, attempt, outcome.error)
        if attempt == max_attempts:
            return PostResult(False, attempt, f"gave up after {attempt} attempts: {outcome.reason}")
        delay = backoff_delay(attempt, outcome.retry_after)
        if delay > MAX_DELAY_SECONDS:
            return PostResult(
                False,
                attempt,
                f"{outcome.reason}, and it asks to wait {delay:.0f} s (Retry-After), longer than "
                f"the {MAX_DELAY_SECONDS:.0f} s a notification waits",
            )
        sleep(delay)
    raise AssertionError("unreachable: max_attempts is at least 1")


def backoff_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds before attempt `attempt + 1`: Retry-After when given, else 1, 2, 4 … (capped)."""
    if retry_after is not None:
        return max(0.0, retry_after)
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2.0 ** (attempt - 1))


def _attempt(
    http: httpx2.Client, url: str, body: bytes, headers: dict[str, str]
) -> PostResult | _Retry:
    try:
        response = http.post(url, content=body, headers=headers)
    except httpx2.InvalidURL:
        return PostResult(False, 1, "the URL is not valid")
    except httpx2.TimeoutException as error:
        return _Retry(f"no answer in time ({type(error).__name__})")
    except httpx2.TransportError as error:
        if _is_certificate_error(error):
            return PostResult(False, 1, "the receiver's TLS certificate was not accepted")
        return _Retry(f"could not connect ({type(error).__name__}: {error})")
    if response.is_success:
        return PostResult(True, 1)
    answer = _describe_answer(response)
    if response.status_code in RETRYABLE_STATUSES:
        return _Retry(answer, retry_after_seconds(response.headers.get("retry-after")))
    return PostResult(False, 1, answer)


def _is_certificate_error(error: Exception) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


def _describe_answer(response: httpx2.Response) -> str:
    status = f"{response.status_code} {response.reason_phrase}".strip()
    text = " ".join(response.text.split())[:MAX_SHOWN]
    return f"the receiver answered {status}" + (f": {text}" if text else "")
