"""The HTTP seam to Flex HRM: authentication, paging, list envelopes, retries and error translation.

Every method returns raw JSON records as Flex sends them (either casing); `parse` reads them.
"""

from __future__ import annotations

import base64
import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx2

from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.errors import (
    RETRYABLE_STATUSES,
    AccessDeniedError,
    CredentialsRefusedError,
    FlexHrmError,
    RequestRejectedError,
    ResourceNotFoundError,
    UnavailableError,
    describe_problem,
)
from hrsync.connectors.retry_after import backoff_delay, retry_after_seconds

Record = dict[str, Any]
"""One JSON object as Flex sends it; `Any` stops here, at the edge."""

Params = dict[str, str | int]

LIST_KEYS = ("items", "data", "results")
"""Where an enveloped list may sit (matched case-insensitively); the real envelope is unknown."""

MAX_DELAY_SECONDS = 60.0
"""No single wait is longer than this, whatever Retry-After asks for."""

USER_AGENT = "hrsync (Flex HRM source)"


@dataclass(frozen=True, slots=True)
class _Retry:
    """A failed attempt worth repeating, and how long the server asked us to wait."""

    reason: str
    retry_after: float | None = None


class FlexHrmClient:
    """Reads Flex HRM over HTTP. Pass `http` (or `transport`) to point it elsewhere.

    `sleep` and `rng` are the clock and dice of the back-off, injectable so tests stay fast and
    can assert the waits.
    """

    def __init__(
        self,
        config: FlexHrmConfig,
        http: httpx2.Client | None = None,
        *,
        transport: httpx2.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._owns_http = http is None
        self._http = http or httpx2.Client(
            transport=transport,
            timeout=config.timeout_seconds,
            verify=config.tls_verify,
            follow_redirects=False,
        )
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._encoding = "raw" if config.auth_encoding == "raw" else "base64"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # The verbs. Paths follow Flex's plural, lower-case, no-separator convention (research §1.3).

    def list_companies(self) -> list[Record]:
        """The companies the API user can see (the instance route first, then the plain one)."""
        try:
            return list(self._pages(f"instance/{_segment(self._config.instance)}/companies", {}))
        except ResourceNotFoundError:
            return list(self._pages("companies", {}))

    def iter_employees(self, company_id: str, modified_since: datetime | None) -> Iterator[Record]:
        """The employees of one company, modified since the given time (all when None), paged."""
        params: Params = {"companyId": company_id}
        if modified_since is not None:
            params["modifiedSince"] = format_modified_since(modified_since)
        return self._pages("employees", params, company_id=company_id)

    def employment_periods(self, employee_id: str) -> list[Record]:
        return list(self._pages(f"employees/{_segment(employee_id)}/employmentperiods", {}))

    def employment_titles(self, company_id: str) -> list[Record]:
        params: Params = {"companyId": company_id}
        return list(self._pages("employmenttitles", params, company_id=company_id))

    def employment_types(self, company_id: str) -> list[Record]:
        params: Params = {"companyId": company_id}
        return list(self._pages("employmenttypes", params, company_id=company_id))

    def account_distributions(self, company_id: str) -> list[Record]:
        path = f"companies/{_segment(company_id)}/accountdistributions"
        return list(self._pages(path, {}, company_id=company_id))

    def accounts(self, distribution_id: str) -> list[Record]:
        return list(self._pages(f"accountdistributions/{_segment(distribution_id)}/accounts", {}))

    # Employees by number, writes and documents. The paths are the configured ones (inferred
    # from Flex's naming, see paths.py); the Oneflow contract workflow uses these.

    def get_employee(self, employee_id: str) -> Record:
        path = self._config.paths.employee.format(employee_id=_segment(employee_id))
        found = self.get_json(path, {})
        if not isinstance(found, dict):
            raise FlexHrmError(f"Flex HRM answered GET {path} with an unexpected shape")
        return found

    def find_employees(self, employment_number: str, company_id: str | None = None) -> list[Record]:
        """The employees with this employment number (one per company at most)."""
        params: Params = {"employmentNumber": employment_number}
        if company_id is not None:
            params["companyId"] = company_id
        return list(self._pages("employees", params, company_id=company_id))

    def update_employee(self, employee_id: str, body: Record) -> Record:
        path = self._config.paths.employee.format(employee_id=_segment(employee_id))
        return self.write_json("PUT", path, body)

    def create_employment_period(self, employee_id: str, body: Record) -> Record:
        path = self._config.paths.employment_periods.format(employee_id=_segment(employee_id))
        return self.write_json("POST", path, body)

    def update_employment_period(self, employee_id: str, period_id: str, body: Record) -> Record:
        path = self._config.paths.employment_period.format(
            employee_id=_segment(employee_id), period_id=_segment(period_id)
        )
        return self.write_json("PUT", path, body)

    def document_categories(self, company_id: str) -> list[Record]:
        path = self._config.paths.document_categories.format(company_id=_segment(company_id))
        return list(self._pages(path, {}, company_id=company_id))

    def employment_documents(self, company_id: str, employee_id: str) -> list[Record]:
        params: Params = {"companyId": company_id, "employeeId": employee_id}
        return list(self._pages(self._config.paths.documents, params, company_id=company_id))

    def permissions(self) -> frozenset[str]:
        """What the API user may do, as `resource:read|write` names."""
        found = self.get_json(self._config.paths.permissions, {})
        listed = (
            found.get("permissions", found.get("Permissions")) if isinstance(found, dict) else found
        )
        return frozenset(str(p) for p in listed or [] if isinstance(p, str))

    def upload_document(
        self,
        employee_id: str,
        category_id: str,
        file_name: str,
        content: bytes,
        content_type: str = "application/pdf",
    ) -> Record:
        """One employment document, as Flex's file model: base64 content with its length."""
        path = self._config.paths.document_upload.format(employee_id=_segment(employee_id))
        body: Record = {
            "documentCategoryId": category_id,
            "file": {
                "fileName": file_name,
                "contentType": content_type,
                "contentLength": len(content),
                "fileContent": base64.b64encode(content).decode("ascii"),
            },
        }
        return self.write_json("POST", path, body)

    def write_json(self, method: str, path: str, body: Record) -> Record:
        """PUT or POST JSON. A PUT is repeated like a GET; a POST only when the server cannot
        have acted on it (429, 503, or the connection never opened), since repeating a POST
        that did arrive would create a second period or document."""
        attempt = 0
        while isinstance(result := self._write_attempt(method, path, body), _Retry):
            if attempt >= self._config.max_retries:
                raise UnavailableError(
                    f"Flex HRM did not accept {method} {path} after {attempt + 1} attempts: "
                    f"{result.reason}"
                )
            self._sleep(self.delay(attempt, result.retry_after))
            attempt += 1
        return result

    def _write_attempt(self, method: str, path: str, body: Record) -> Record | _Retry:
        is_repeatable = method == "PUT"
        url = self._config.url + path
        try:
            response = self._http.request(method, url, json=body, headers=self._headers())
        except httpx2.ConnectError as exc:
            return _Retry(f"connection failed ({type(exc).__name__}: {exc})")
        except httpx2.TransportError as exc:
            if is_repeatable:
                return _Retry(f"{type(exc).__name__}: {exc}")
            raise UnavailableError(
                f"{method} {path} got no answer ({type(exc).__name__}); Flex HRM may or may "
                "not have applied it"
            ) from exc
        status = response.status_code
        if status in (429, 503) or (is_repeatable and status in RETRYABLE_STATUSES):
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            return _Retry(f"HTTP {status} {response.reason_phrase}".strip(), wait)
        if status >= 300:
            raise _write_error(response, method, path)
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        return answer if isinstance(answer, dict) else {"value": answer}

    # Paging and envelopes.

    def _pages(self, path: str, params: Params, company_id: str | None = None) -> Iterator[Record]:
        """Every record of a list, page by page (`pageIndex` is 0-based) until a short page."""
        size = self._config.page_size
        previous: list[Record] | None = None
        for index in itertools.count():
            page = self.get_list(path, {**params, "pageIndex": index, "pageSize": size}, company_id)
            if page and page == previous:
                return  # the endpoint ignores paging and sent the same list again
            yield from page
            if len(page) != size:
                return  # short (last) page, or longer than asked: an unpaged list
            previous = page

    def get_list(self, path: str, params: Params, company_id: str | None = None) -> list[Record]:
        """One page of a list: a bare array, or an object holding it under items/data/results."""
        return extract_items(self.get_json(path, params, company_id), path)

    # Requests, retries and error translation.

    def get_json(self, path: str, params: Params, company_id: str | None = None) -> Any:
        """GET one resource, retrying transient failures with back-off; raise a FlexHrmError."""
        attempt = 0
        while isinstance(result := self._attempt(path, params, company_id), _Retry):
            if attempt >= self._config.max_retries:
                raise UnavailableError(
                    f"Flex HRM did not answer GET {path} after {attempt + 1} attempts: "
                    f"{result.reason}"
                )
            self._sleep(self.delay(attempt, result.retry_after))
            attempt += 1
        return result

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry `attempt + 1`: Retry-After if given, else exponential
        back-off with jitter (half fixed, half random), capped at a minute either way."""
        return backoff_delay(
            attempt, retry_after, self._config.backoff_seconds, self._rng, MAX_DELAY_SECONDS
        )

    def _attempt(self, path: str, params: Params, company_id: str | None) -> Any:
        try:
            response = self._send(path, params)
        except httpx2.TimeoutException as exc:
            return _Retry(f"timed out ({type(exc).__name__})")
        except httpx2.TransportError as exc:
            return _Retry(f"connection failed ({type(exc).__name__}: {exc})")
        return self._read(response, path, company_id)

    def _send(self, path: str, params: Params) -> httpx2.Response:
        url = self._config.url + path
        response = self._http.get(url, params=params, headers=self._headers())
        if response.status_code == 401 and self._may_fall_back_to_raw():
            # Code seen working against Flex's staging API sends the credential unencoded
            # (research §1.2), so "auto" tries that once and keeps it if it works.
            self._encoding = "raw"
            response = self._http.get(url, params=params, headers=self._headers())
            if response.status_code == 401:
                self._encoding = "base64"  # neither form works: stay with the standard one
        return response

    def _may_fall_back_to_raw(self) -> bool:
        return self._config.auth_encoding == "auto" and self._encoding == "base64"

    def _headers(self) -> dict[bytes, bytes]:
        """The request headers, as UTF-8 bytes so a raw credential may hold any character."""
        config = self._config
        secret = config.password.get_secret_value()
        credential = f"{config.instance}:{config.username}:{secret}".encode()
        if self._encoding == "base64":
            credential = base64.b64encode(credential)
        return {
            b"Authorization": b"Basic " + credential,
            b"Instance": config.instance.encode(),
            b"Accept": b"application/json",
            b"User-Agent": USER_AGENT.encode(),
        }

    def _read(self, response: httpx2.Response, path: str, company_id: str | None) -> Any:
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            return _Retry(f"HTTP {status} {response.reason_phrase}".strip(), wait)
        if status >= 300:
            raise _status_error(response, path, company_id)
        try:
            return response.json()
        except ValueError:
            # A body cut short or garbled on the way; asking again usually cures it.
            return _Retry(f"the response to GET {path} was not valid JSON")


def _status_error(response: httpx2.Response, path: str, company_id: str | None) -> FlexHrmError:
    status = response.status_code
    problem = describe_problem(response.text)
    detail = f": {problem}" if problem else ""
    if status == 401:
        return CredentialsRefusedError(
            "Flex HRM refused the credentials (401): check instance, username and password"
        )
    if status == 403:
        scope = f"company {company_id}" if company_id else f"GET {path}"
        return AccessDeniedError(
            f"Flex HRM denied the API user access (403) to {scope}: it needs access to that "
            f"company and the roles to read employees and employment periods{detail}"
        )
    if status == 404:
        return ResourceNotFoundError(f"Flex HRM found nothing at GET {path} (404){detail}")
    if 300 <= status < 400:
        where = response.headers.get("Location", "?")
        return RequestRejectedError(f"Flex HRM redirected GET {path} to {where}: check the url")
    return RequestRejectedError(f"Flex HRM rejected GET {path} (HTTP {status}){detail}")


def _write_error(response: httpx2.Response, method: str, path: str) -> FlexHrmError:
    status = response.status_code
    problem = describe_problem(response.text)
    detail = f": {problem}" if problem else ""
    if status == 401:
        return CredentialsRefusedError("Flex HRM refused the credentials (401)")
    if status == 403:
        return AccessDeniedError(
            f"Flex HRM denied {method} {path} (403): the API user needs the roles to update "
            f"employees, employment periods and employment documents{detail}"
        )
    if status == 404:
        return ResourceNotFoundError(f"Flex HRM found nothing at {method} {path} (404){detail}")
    if status >= 500:
        return UnavailableError(f"Flex HRM failed {method} {path} (HTTP {status}){detail}")
    return RequestRejectedError(f"Flex HRM rejected {method} {path} (HTTP {status}){detail}")


def extract_items(body: Any, path: str) -> list[Record]:
    """The records of a list response, whichever envelope (if any) it came in."""
    items = body
    if isinstance(body, dict):
        folded = {str(key).casefold(): value for key, value in body.items()}
        items = next((folded[key] for key in LIST_KEYS if isinstance(folded.get(key), list)), None)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        shape = sorted(body)[:8] if isinstance(body, dict) else type(body).__name__
        raise FlexHrmError(f"Flex HRM answered GET {path} with an unexpected shape ({shape})")
    return items


def format_modified_since(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS` in UTC (a naive time is taken as UTC).

    Flex takes a naive time. If an instance keeps its clocks in Swedish time, UTC only widens the
    window by an hour or two, and the importer's content hashes absorb the repeats.
    """
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _segment(value: str) -> str:
    return quote(value, safe="")
