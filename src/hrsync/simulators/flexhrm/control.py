"""The simulator's control side: fault injection state and the unauthenticated `/_sim` endpoints.

`/_sim` is not part of Flex HRM. It lets tests, the demo and people change the data and the
server's behaviour while clients talk to the API.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from hrsync.simulators.flexhrm.api import ProblemError
from hrsync.simulators.flexhrm.store import DatasetError, FlexStore, UnknownEmployeeError

_FAULT_KEYS = {
    "status": "status",
    "retryAfter": "retry_after",
    "times": "times",
    "slowSeconds": "slow_seconds",
    "brokenPage": "broken_page",
}


@dataclass(frozen=True, slots=True)
class Faults:
    """What the API does wrong from now on. The default injects nothing.

    status/retry_after/times: the next `times` API requests answer `status` (429, 503…) with
    `Retry-After: retry_after` (no header when None). slow_seconds: every API answer is delayed.
    broken_page: the employees list at this pageIndex answers 500 with a cut-off body, once.
    """

    status: int | None = None
    retry_after: int | None = 1
    times: int = 1
    slow_seconds: float = 0.0
    broken_page: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("a fault status must be an HTTP error status (400-599)")
        if self.times < 0 or self.slow_seconds < 0:
            raise ValueError("times and slow_seconds cannot be negative")
        if self.broken_page is not None and self.broken_page < 0:
            raise ValueError("broken_page is a 0-based pageIndex")

    def to_json(self) -> dict[str, object]:
        values = asdict(self)
        return {wire: values[name] for wire, name in _FAULT_KEYS.items()}

    @classmethod
    def from_json(cls, body: object) -> Faults:
        """Faults from `{status, retryAfter, times, slowSeconds, brokenPage}` (all optional)."""
        if not isinstance(body, dict) or not set(body) <= set(_FAULT_KEYS):
            raise ValueError(f"expected an object with keys among {', '.join(_FAULT_KEYS)}")
        values = {_FAULT_KEYS[key]: value for key, value in body.items()}
        for name, value in values.items():
            expected = (int, float) if name == "slow_seconds" else int
            if isinstance(value, bool) or not (value is None or isinstance(value, expected)):
                raise ValueError(f"{name} has the wrong type")
        if values.get("times", 1) is None or values.get("slow_seconds", 0.0) is None:
            raise ValueError("times and slowSeconds cannot be null")
        return cls(**values)


class FaultState:
    """The armed faults and how much of them is left; shared by all request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.faults = Faults()
        self._remaining = 0
        self._page_broken = False

    def arm(self, faults: Faults) -> None:
        """Replace the faults; counters start again."""
        with self._lock:
            self.faults = faults
            self._remaining = faults.times if faults.status is not None else 0
            self._page_broken = False

    def take_status(self) -> bool:
        """True when this request must answer the fault status (uses up one of `times`)."""
        with self._lock:
            if self._remaining <= 0:
                return False
            self._remaining -= 1
            return True

    def take_broken_page(self, page_index: str) -> bool:
        """True when this employees-list page must break (once per arming)."""
        with self._lock:
            broken = self.faults.broken_page
            if broken is None or self._page_broken or page_index.strip() != str(broken):
                return False
            self._page_broken = True
            return True


class Control:
    """The `/_sim` endpoints. Answers (status, JSON value or None); raises ProblemError."""

    def __init__(
        self,
        store: FlexStore,
        faults: FaultState,
        clock: Callable[[], datetime],
        documents: Callable[[str], list[dict[str, object]]] | None = None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.clock = clock
        self.documents = documents

    def handle(self, method: str, segments: tuple[str, ...], body: bytes) -> tuple[int, object]:
        match (method, *segments):
            case ("GET", "health"):
                return 200, self._health()
            case ("GET", "dataset"):
                return 200, self.store.to_dataset()
            case ("GET", "employees", employee_id):
                return 200, self._employee(employee_id)
            case ("PATCH", "employees", employee_id):
                return 200, self._patch(employee_id, _json(body))
            case ("POST", "employees"):
                return 201, self._add(_json(body))
            case ("GET", "faults"):
                return 200, self.faults.faults.to_json()
            case ("PUT", "faults"):
                return 200, self._arm(_json(body))
            case ("DELETE", "faults"):
                self.faults.arm(Faults())
                return 204, None
            case (_, "health" | "dataset" | "employees" | "faults", *_):
                raise ProblemError(405, "Method Not Allowed")
        raise ProblemError(404, "Not Found")

    def _health(self) -> dict[str, object]:
        return {
            "status": "ok",
            "companies": len(self.store.companies),
            "employees": len(self.store.employees()),
        }

    def _employee(self, employee_id: str) -> object:
        found = self.store.employee(employee_id)
        if found is None:
            raise ProblemError(404, "Not Found")
        if self.documents is None:
            return found
        return {**found, "documents": self.documents(employee_id)}

    def _patch(self, employee_id: str, patch: object) -> object:
        try:
            return self.store.patch_employee(employee_id, patch, now=self.clock())
        except UnknownEmployeeError:
            raise ProblemError(404, "Not Found") from None
        except DatasetError as error:
            raise _rejected("employee", error) from None

    def _add(self, employee: object) -> object:
        try:
            return self.store.add_employee(employee, now=self.clock())
        except DatasetError as error:
            raise _rejected("employee", error) from None

    def _arm(self, body: object) -> object:
        try:
            faults = Faults.from_json(body)
        except (TypeError, ValueError) as error:
            raise _rejected("faults", error) from None
        self.faults.arm(faults)
        return faults.to_json()


def _json(body: bytes) -> object:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise ProblemError(400, "The request body is not JSON.") from None


def _rejected(field: str, error: Exception) -> ProblemError:
    return ProblemError(400, "One or more validation errors occurred.", {field: [str(error)]})
