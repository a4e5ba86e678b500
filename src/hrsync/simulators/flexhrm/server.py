"""The Flex HRM simulator's HTTP side: mounts and dialects, Basic auth, faults, `/_sim` control.

One store is served under two mounts: `/api/` (the central API, camelCase) and `/webapi/api/`
(the legacy per-customer webapi, PascalCase). Standard library only, HTTP/1.1 keep-alive.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hrsync.simulators.flexhrm.api import ApiRequest, FlexApi, Listing, ProblemError, Result
from hrsync.simulators.flexhrm.control import Control, Faults, FaultState
from hrsync.simulators.flexhrm.records import ALL_PERMISSIONS, FlexRecords, WriteRequest
from hrsync.simulators.flexhrm.store import FlexStore, JsonObject
from hrsync.simulators.serving import Reply, Served, SimulatorServer

_JSON = "application/json; charset=utf-8"
_PROBLEM = "application/problem+json; charset=utf-8"
_BROKEN_BODY = b'{"items":[{"id":"'  # cut off mid-value: a proxy that dropped the connection


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API user: instance (customer number or domain), username, password, company scope.

    An empty `company_ids` gives access to every company, like the API user integrators ask for.
    `permissions` are among `records.ALL_PERMISSIONS` (`employees:write`, `documents:read`, …);
    a write without its permission gets 403.
    """

    instance: str
    username: str
    password: str = field(repr=False)
    company_ids: frozenset[str] = frozenset()
    permissions: frozenset[str] = ALL_PERMISSIONS

    def matches(self, instance: str, username: str, password: str) -> bool:
        given = f"{instance}\0{username}\0{password}".encode()
        expected = f"{self.instance}\0{self.username}\0{self.password}".encode()
        return hmac.compare_digest(given, expected)


def problem(status: int, title: str, errors: Mapping[str, list[str]] | None = None) -> Reply:
    """RFC 7807 ProblemDetails as ASP.NET Core writes them (member names stay lower-case)."""
    body: JsonObject = {
        "type": f"https://tools.ietf.org/html/rfc9110#section-15.{_rfc_section(status)}",
        "title": title,
        "status": status,
        "traceId": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00",
    }
    if errors:
        body["errors"] = dict(errors)
    return Reply(status, _encode(body), _PROBLEM)


def json_reply(status: int, value: object) -> Reply:
    return Reply(status, _encode(value), _JSON)


def to_pascal(value: object) -> object:
    """The legacy dialect: every key's first letter upper-cased, recursively."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: to_pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_pascal(item) for item in value]
    return value


def _rfc_section(status: int) -> str:
    return {400: "5.1", 401: "5.2", 403: "5.4", 404: "5.5", 405: "5.6", 429: "5.21"}.get(
        status, "6.1" if status == 500 else "6.4"
    )


def _encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class FlexSimulator(Served):
    """A local Flex HRM: start it, point a client at `url` or `legacy_url`, stop it.

    `dataset` is a v2 dataset (see `generate_dataset`). `clock` returns naive UTC datetimes and
    stamps `modified` on mutations. `envelope=True` wraps lists as `{"items", "totalCount"}`.
    """

    def __init__(
        self,
        dataset: Mapping[str, Any],
        credentials: Credentials | tuple[Credentials, ...] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        envelope: bool = False,
        max_page_size: int = 500,
        log_requests: bool = False,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        users = credentials or Credentials("acme", "api", "secret")
        self.users = users if isinstance(users, tuple) else (users,)
        self.host, self.envelope, self.log_requests = host, envelope, log_requests
        self.clock = clock
        self.store = FlexStore(dataset, now=clock())
        self.api = FlexApi(self.store, instance=self.users[0].instance, max_page_size=max_page_size)
        self.fault_state = FaultState()
        self.records = FlexRecords(self.store, dataset, clock)
        self.control = Control(
            self.store, self.fault_state, clock, documents=self.records.employee_documents
        )
        self._server = SimulatorServer(
            self.dispatch,
            host,
            port,
            name="FlexHRM-Simulator",
            log_requests=log_requests,
            crashed=lambda: problem(500, "Internal Server Error"),
        )

    @property
    def url(self) -> str:
        """Base URL of the central API (camelCase)."""
        return f"http://{self._url_host}:{self.port}/api/"

    @property
    def legacy_url(self) -> str:
        """Base URL of the legacy webapi (PascalCase)."""
        return f"http://{self._url_host}:{self.port}/webapi/api/"

    @property
    def faults(self) -> Faults:
        return self.fault_state.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.fault_state.arm(faults)

    def patch_employee(self, employee_id: str, patch: Mapping[str, Any]) -> JsonObject:
        """RFC 7386 merge patch over the dataset-shape employee; bumps `modified`."""
        return self.store.patch_employee(employee_id, dict(patch), now=self.clock())

    def add_employee(self, employee: Mapping[str, Any]) -> JsonObject:
        """Add a dataset-shape employee (id generated when missing); returns it."""
        return self.store.add_employee(dict(employee), now=self.clock())

    def rename_account(self, level: str, old: str, new: str, company_id: str = "") -> None:
        """Rename a unit (an account of the `level` distribution) keeping its id; the first
        company's unless `company_id` is given."""
        self.store.rename_account(company_id or self.store.company_ids()[0], level, old, new)

    def employee(self, employee_id: str) -> JsonObject | None:
        """The dataset-shape employee, or None."""
        found = self.store.employee(employee_id)
        return None if found is None else copy.deepcopy(found)

    def dispatch(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one request: control endpoints, else faults, auth and the API.

        `headers` are keyed by lower-case name.
        """
        url = urlsplit(target)
        segments = tuple(unquote(s) for s in url.path.split("/") if s)
        query = {k.lower(): v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if segments[:1] == ("_sim",):
            return self._serve_control(method, segments[1:], body)
        mount = _mount(segments)
        if mount is None:
            return problem(404, "Not Found")
        return self._serve_api(
            method, segments[mount:], query, headers, pascal=mount == 2, body=body
        )

    def _serve_control(self, method: str, segments: tuple[str, ...], body: bytes) -> Reply:
        try:
            status, value = self.control.handle(method, segments, body)
        except ProblemError as error:
            return problem(error.status, error.title, error.errors)
        return Reply(status) if value is None else json_reply(status, value)

    def _serve_api(
        self,
        method: str,
        segments: tuple[str, ...],
        query: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        pascal: bool,
        body: bytes = b"",
    ) -> Reply:
        injected = self._inject_fault(segments, query)
        if injected is not None:
            return injected
        user = self.authenticate(headers)
        if user is None:
            return Reply(401, headers=(("WWW-Authenticate", 'Basic realm="Flex HRM"'),))
        if self.records.handles(method, segments):
            return self._serve_records(method, segments, query, body, user, pascal=pascal)
        if method != "GET":
            return problem(405, "Method Not Allowed")
        try:
            result = self.api.handle(ApiRequest(segments, query, user.company_ids))
        except ProblemError as error:
            return problem(error.status, error.title, error.errors)
        value = self._shape(result)
        return json_reply(200, to_pascal(value) if pascal else value)

    def _serve_records(
        self,
        method: str,
        segments: tuple[str, ...],
        query: Mapping[str, str],
        body: bytes,
        user: Credentials,
        *,
        pascal: bool,
    ) -> Reply:
        request = WriteRequest(method, segments, query, body, user.company_ids, user.permissions)
        try:
            value = self.records.handle(request)
        except ProblemError as error:
            return problem(error.status, error.title, error.errors)
        status = 201 if method == "POST" else 200
        return json_reply(status, to_pascal(value) if pascal else value)

    def documents(self, employee_id: str) -> list[JsonObject]:
        """The employee's documents: fileName, category name, contentLength, created."""
        return self.records.employee_documents(employee_id)

    def authenticate(self, headers: Mapping[str, str]) -> Credentials | None:
        """The user of `Authorization: Basic` with `instance:user:pass`, base64 or raw.

        An `Instance` header, when sent, must name the same instance. Header names lower-case.
        """
        scheme, _, token = (headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() != "basic" or not token.strip():
            return None
        instance_header = headers.get("instance")
        for candidate in _credential_forms(token.strip()):
            parts = candidate.split(":", 2)
            if len(parts) != 3:
                continue
            for user in self.users:
                if user.matches(*parts) and instance_header in (None, user.instance):
                    return user
        return None

    def _inject_fault(self, segments: tuple[str, ...], query: Mapping[str, str]) -> Reply | None:
        faults = self.fault_state.faults
        if faults.slow_seconds > 0:
            time.sleep(faults.slow_seconds)
        if self.fault_state.take_status():
            phrase = HTTPStatus(faults.status or 503).phrase
            retry = (
                () if faults.retry_after is None else (("Retry-After", str(faults.retry_after)),)
            )
            return _with_headers(problem(faults.status or 503, phrase), retry)
        is_employee_list = tuple(s.lower() for s in segments) == ("employees",)
        if is_employee_list and self.fault_state.take_broken_page(query.get("pageindex") or "0"):
            return Reply(500, _BROKEN_BODY, _JSON)
        return None

    def _shape(self, result: Result) -> object:
        if not isinstance(result, Listing):
            return result
        if self.envelope:
            return {"items": result.items, "totalCount": result.total}
        return result.items

    @property
    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host


def _mount(segments: tuple[str, ...]) -> int | None:
    """How many leading segments form the mount: 1 for `/api/`, 2 for `/webapi/api/`."""
    lowered = tuple(s.lower() for s in segments[:2])
    if lowered[:1] == ("api",):
        return 1
    if lowered == ("webapi", "api"):
        return 2
    return None


def _credential_forms(token: str) -> list[str]:
    """The base64-decoded credential (the standard), then the raw one some clients send."""
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return [token]
    return [decoded, token]


def _with_headers(reply: Reply, headers: tuple[tuple[str, str], ...]) -> Reply:
    return Reply(reply.status, reply.body, reply.content_type, reply.headers + headers)
