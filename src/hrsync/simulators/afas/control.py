"""The simulator's control side: fault injection and the unauthenticated `/_sim` endpoints.

`/_sim` is not part of AFAS. It lets tests, demos and people change the data and the server's
behaviour while clients talk to the API, as the Flex HRM simulator's `/_sim` does.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from hrsync.simulators.afas.api import ConnectorError
from hrsync.simulators.afas.store import AfasStore, DatasetError, UnknownEmployeeError

_FAULT_KEYS = {
    "status": "status",
    "retryAfter": "retry_after",
    "times": "times",
    "slowSeconds": "slow_seconds",
}


@dataclass(frozen=True, slots=True)
class Faults:
    """What the API does wrong from now on; the default injects nothing.

    The next `times` API requests answer `status` (429, 503, …) with `Retry-After: retry_after`
    (no header when None); `slow_seconds` delays every API answer.
    """

    status: int | None = None
    retry_after: int | None = 1
    times: int = 1
    slow_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("a fault status must be an HTTP error status (400-599)")
        if self.times < 0 or self.slow_seconds < 0:
            raise ValueError("times and slowSeconds cannot be negative")

    def to_json(self) -> dict[str, object]:
        return {wire: getattr(self, name) for wire, name in _FAULT_KEYS.items()}

    @classmethod
    def from_json(cls, body: object) -> Faults:
        """Faults from `{status, retryAfter, times, slowSeconds}` (all optional)."""
        if not isinstance(body, dict) or not set(body) <= set(_FAULT_KEYS):
            raise ValueError(f"expected an object with keys among {', '.join(_FAULT_KEYS)}")
        values = {_FAULT_KEYS[key]: value for key, value in body.items()}
        for name, value in values.items():
            expected = (int, float) if name == "slow_seconds" else int
            nullable = name in ("status", "retry_after")
            if isinstance(value, bool) or not (
                (value is None and nullable) or isinstance(value, expected)
            ):
                raise ValueError(f"{name} has the wrong type")
        return cls(**values)


class FaultState:
    """The armed faults and how many are left; shared by every request thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.faults = Faults()
        self._remaining = 0

    def arm(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._remaining = faults.times if faults.status is not None else 0

    def take_status(self) -> int | None:
        """The fault status this request must answer (using one up), or None."""
        with self._lock:
            if self._remaining <= 0:
                return None
            self._remaining -= 1
            return self.faults.status


class Control:
    """The `/_sim` endpoints. Answers (status, JSON value or None); raises ConnectorError."""

    def __init__(self, store: AfasStore, faults: FaultState) -> None:
        self.store = store
        self.faults = faults

    def handle(self, method: str, segments: tuple[str, ...], body: bytes) -> tuple[int, object]:
        match (method, *segments):
            case ("GET", "health"):
                return 200, {"status": "ok", "connectors": self.store.connector_ids()}
            case ("GET", "dataset"):
                return 200, self.store.to_dataset()
            case ("POST", "reset"):
                self.store.reset()
                self.faults.arm(Faults())
                return 204, None
            case ("GET", "employees", number):
                return 200, self._employee(number)
            case ("PATCH", "employees", number):
                return 200, self._patch(number, _json(body))
            case ("POST", "employees"):
                return 201, self._add(_json(body))
            case ("GET", "faults"):
                return 200, self.faults.faults.to_json()
            case ("PUT", "faults"):
                return 200, self._arm(_json(body))
            case ("DELETE", "faults"):
                self.faults.arm(Faults())
                return 204, None
            case (_, "health" | "dataset" | "reset" | "employees" | "faults", *_):
                raise ConnectorError(405, "Method Not Allowed")
        raise ConnectorError(404, "Not Found")

    def _employee(self, number: str) -> object:
        try:
            return self.store.employee(number)
        except UnknownEmployeeError:
            raise ConnectorError(404, f"Geen medewerker {number}") from None

    def _patch(self, number: str, patch: object) -> object:
        try:
            return self.store.patch_employee(number, patch)
        except UnknownEmployeeError:
            raise ConnectorError(404, f"Geen medewerker {number}") from None
        except DatasetError as error:
            raise ConnectorError(400, str(error)) from None

    def _add(self, body: object) -> object:
        try:
            return self.store.add_employee(body)
        except DatasetError as error:
            raise ConnectorError(400, str(error)) from None

    def _arm(self, body: object) -> object:
        try:
            faults = Faults.from_json(body)
        except (TypeError, ValueError) as error:
            raise ConnectorError(400, str(error)) from None
        self.faults.arm(faults)
        return faults.to_json()


def _json(body: bytes) -> object:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise ConnectorError(400, "The request body is not JSON.") from None
