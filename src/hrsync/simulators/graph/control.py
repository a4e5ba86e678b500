"""What the Graph simulator does wrong on purpose, and the unauthenticated `/_sim` endpoints
that arm it. `/_sim` is not Graph: it lets tests, benchmarks and people steer the server."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

_KEYS = {
    "status": "status",
    "retryAfter": "retry_after",
    "times": "times",
    "latencyMs": "latency_ms",
    "consistencyLag": "consistency_lag",
}


@dataclass(frozen=True, slots=True)
class Faults:
    """The default injects nothing.

    status/retry_after/times: the next `times` Graph requests (each request inside a `$batch`
    counts, as Graph throttles them one by one) answer `status` (429, 503, 504) with
    `Retry-After: retry_after` (none when None). latency_ms: every HTTP request is delayed.
    consistency_lag: a user just created answers 404 to the next N requests that address it,
    as Entra's replicas catch up (0: off).
    """

    status: int | None = None
    retry_after: int | None = 1
    times: int = 1
    latency_ms: int = 0
    consistency_lag: int = 0

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("a fault status must be an HTTP error status (400-599)")
        if min(self.times, self.latency_ms, self.consistency_lag) < 0:
            raise ValueError("times, latencyMs and consistencyLag cannot be negative")

    def to_json(self) -> dict[str, object]:
        values = asdict(self)
        return {wire: values[name] for wire, name in _KEYS.items()}

    @classmethod
    def from_json(cls, body: object) -> Faults:
        """From `{status, retryAfter, times, latencyMs, consistencyLag}`, all optional."""
        if not isinstance(body, dict) or not set(body) <= set(_KEYS):
            raise ValueError(f"expected an object with keys among {', '.join(_KEYS)}")
        values = {_KEYS[key]: value for key, value in body.items()}
        for name, value in values.items():
            nullable = name in ("status", "retry_after")
            if isinstance(value, bool) or not (
                isinstance(value, int) or (nullable and value is None)
            ):
                raise ValueError(f"{name} must be a whole number")
        return cls(**values)


class FaultState:
    """The armed faults, what is left of them, and the users still lagging; thread-safe."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self.faults = faults or Faults()
        self._remaining = 0
        self._lagging: dict[str, int] = {}
        self.arm(self.faults)

    def arm(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._remaining = faults.times if faults.status is not None else 0
            self._lagging.clear()

    def take_status(self) -> bool:
        """True when this request must answer the fault status (uses one of `times`)."""
        with self._lock:
            if self._remaining <= 0:
                return False
            self._remaining -= 1
            return True

    def created(self, user_id: str) -> None:
        """A user was just created: it lags for `consistency_lag` requests."""
        with self._lock:
            if self.faults.consistency_lag > 0:
                self._lagging[user_id] = self.faults.consistency_lag

    def is_lagging(self, user_id: str) -> bool:
        """True when a request addressing this user must not find it yet (uses one)."""
        with self._lock:
            left = self._lagging.get(user_id, 0)
            if left <= 0:
                return False
            if left == 1:
                del self._lagging[user_id]
            else:
                self._lagging[user_id] = left - 1
            return True
