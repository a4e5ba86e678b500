"""Webhook delivery as Oneflow does it (research §2.6): the documented body, the
`sha1(callback_id + sign_key)` signature, a callback id stable across retries, and the retry
schedule 1, 5, 10, 30, 60, 300, 600, 1800, 3600 s (10 attempts), compressed by a time factor.

Any 200 ends a delivery; anything else (another status, a refused connection, a timeout) is
retried. Every attempt is logged for `GET /_sim/deliveries`.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

RETRY_SCHEDULE: tuple[float, ...] = (1, 5, 10, 30, 60, 300, 600, 1800, 3600)
"""Seconds before attempts 2 to 10."""
TIMEOUT_SECONDS = 10.0
SENDERS = 4
"""Deliveries in flight at once: a slow receiver must not hold up every other contract."""


def signature(callback_id: str, sign_key: str) -> str:
    """The hex SHA-1 of the callback id followed by the sign key."""
    return hashlib.sha1((callback_id + sign_key).encode()).hexdigest()  # noqa: S324 (Oneflow's)


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter: every rule must match (EVENT_TYPE values, WORKSPACE ids); a webhook with
    several filters fires when any matches, one without filters on every event."""

    event_types: frozenset[str] = frozenset()
    workspaces: frozenset[int] = frozenset()

    def matches(self, event_type: str, workspace_id: int) -> bool:
        return (not self.event_types or event_type in self.event_types) and (
            not self.workspaces or workspace_id in self.workspaces
        )

    def to_json(self) -> dict[str, Any]:
        rules: list[dict[str, Any]] = []
        if self.event_types:
            rules.append({"type": "EVENT_TYPE", "values": sorted(self.event_types)})
        if self.workspaces:
            rules.append({"type": "WORKSPACE", "values": sorted(self.workspaces)})
        return {"filter_rules": rules}

    @classmethod
    def from_json(cls, value: object) -> Filter:
        rules = value.get("filter_rules") if isinstance(value, dict) else None
        if not isinstance(rules, list):
            raise ValueError("a filter is {filter_rules: [{type, values}]}")
        events: set[str] = set()
        workspaces: set[int] = set()
        for rule in rules:
            kind = rule.get("type") if isinstance(rule, dict) else None
            values = rule.get("values") if isinstance(rule, dict) else None
            if kind not in ("EVENT_TYPE", "WORKSPACE") or not isinstance(values, list):
                raise ValueError("a filter rule is {type: EVENT_TYPE|WORKSPACE, values: [...]}")
            if kind == "EVENT_TYPE":
                events.update(str(v) for v in values)
            else:
                workspaces.update(int(v) for v in values)
        return cls(frozenset(events), frozenset(workspaces))


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    callback_url: str
    sign_key: str
    filters: tuple[Filter, ...] = ()

    def wants(self, event_type: str, workspace_id: int) -> bool:
        return not self.filters or any(f.matches(event_type, workspace_id) for f in self.filters)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "callback_url": self.callback_url,
            "sign_key": self.sign_key,
            "filters": [f.to_json() for f in self.filters],
            "template_group_id": None,
            "integration_instance": None,
            "legacy_webhook": False,
        }


@dataclass(slots=True)
class _Delivery:
    url: str
    body: bytes
    callback_id: str
    attempt: int = 0


@dataclass(slots=True)
class Dispatcher:
    """Sends deliveries on a few threads, each attempt at its time. `time_factor` N makes
    every wait N times shorter (`--time-factor 1000`: the hour-long last wait takes 3.6 s)."""

    time_factor: float = 1.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    log: list[dict[str, Any]] = field(default_factory=list)
    _due: list[tuple[float, int, _Delivery]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stopped: bool = False
    _busy: int = 0

    def start(self) -> None:
        for number in range(SENDERS):
            thread = threading.Thread(
                target=self._run, name=f"oneflow-webhooks-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=TIMEOUT_SECONDS + 1)
        self._threads.clear()

    def deliver(self, hooks: Sequence[Webhook], contract_id: int, event: dict[str, Any]) -> None:
        """Queue one delivery per webhook; each gets its own callback id."""
        for hook in hooks:
            callback_id = uuid.uuid4().hex
            body = {
                "contract": {"id": contract_id},
                "callback_id": callback_id,
                "events": [event],
                "signature": signature(callback_id, hook.sign_key),
            }
            encoded = json.dumps(body, separators=(",", ":")).encode()
            self._schedule(_Delivery(hook.callback_url, encoded, callback_id), 0.0)

    def pending(self) -> int:
        """Deliveries waiting for an attempt or in flight."""
        with self._wake:
            return len(self._due) + self._busy

    def entries(self) -> list[dict[str, Any]]:
        with self._wake:
            return [dict(entry) for entry in self.log]

    def clear(self) -> None:
        with self._wake:
            self.log.clear()

    def _schedule(self, delivery: _Delivery, delay: float) -> None:
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), delivery))
            self._wake.notify()

    def _run(self) -> None:
        while (delivery := self._next()) is not None:
            try:
                self._attempt(delivery)
            finally:
                with self._wake:
                    self._busy -= 1

    def _next(self) -> _Delivery | None:
        with self._wake:
            while not self._stopped:
                if self._due and self._due[0][0] <= time.monotonic():
                    self._busy += 1
                    return heapq.heappop(self._due)[2]
                timeout = self._due[0][0] - time.monotonic() if self._due else None
                self._wake.wait(timeout)
            return None

    def _attempt(self, delivery: _Delivery) -> None:
        delivery.attempt += 1
        status, error = _post(delivery.url, delivery.body)
        with self._wake:
            self.log.append(
                {
                    "url": delivery.url,
                    "body": delivery.body.decode(),
                    "callback_id": delivery.callback_id,
                    "status": status,
                    "error": error,
                    "attempt": delivery.attempt,
                    "time": self.clock().isoformat(),
                }
            )
        if status != 200 and delivery.attempt <= len(RETRY_SCHEDULE):
            wait = RETRY_SCHEDULE[delivery.attempt - 1] / self.time_factor
            self._schedule(delivery, wait)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Straight to the receiver: a proxy from the environment must not carry loopback webhooks."""


def _post(url: str, body: bytes) -> tuple[int | None, str]:
    """The status of one POST (None when no answer came) and, if so, why."""
    request = urllib.request.Request(  # noqa: S310 (the URL is the operator's webhook)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Oneflow-Simulator/1"},
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
            return int(response.status), ""
    except urllib.error.HTTPError as failure:
        return failure.code, ""
    except (urllib.error.URLError, OSError) as failure:
        return None, str(getattr(failure, "reason", failure))
