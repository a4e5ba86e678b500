"""Oneflow webhook deliveries: the body's shape and its signature (research §2.6)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: int
    type: str
    created_time: str


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """`{contract: {id}, callback_id, events: [{id, type, created_time}], signature}`."""

    contract_id: int
    callback_id: str
    events: tuple[WebhookEvent, ...]
    signature: str


class MalformedDeliveryError(ValueError):
    pass


def parse_delivery(body: Any) -> WebhookDelivery:
    """The delivery, or MalformedDeliveryError saying what is missing."""
    if not isinstance(body, dict):
        raise MalformedDeliveryError("the body is not a JSON object")
    contract = body.get("contract")
    contract_id = contract.get("id") if isinstance(contract, dict) else None
    callback_id, signature = body.get("callback_id"), body.get("signature")
    events = body.get("events")
    if not isinstance(contract_id, int) or isinstance(contract_id, bool):
        raise MalformedDeliveryError("contract.id is missing")
    if not isinstance(callback_id, str) or not callback_id:
        raise MalformedDeliveryError("callback_id is missing")
    if not isinstance(signature, str):
        signature = ""  # unsigned: refused by is_signed, as a bad signature is
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise MalformedDeliveryError("events is not a list")
    parsed = tuple(
        WebhookEvent(int(e.get("id") or 0), str(e.get("type") or ""), str(e.get("created_time")))
        for e in events
    )
    return WebhookDelivery(contract_id, callback_id, parsed, signature)


def expected_signature(callback_id: str, sign_key: str) -> str:
    return hashlib.sha1((callback_id + sign_key).encode()).hexdigest()  # noqa: S324 (Oneflow's scheme)


def is_signed(delivery: WebhookDelivery, sign_key: str) -> bool:
    """Whether `signature` is sha1(callback_id + sign_key), compared in constant time."""
    expected = expected_signature(delivery.callback_id, sign_key)
    return hmac.compare_digest(expected.encode(), delivery.signature.strip().lower().encode())
