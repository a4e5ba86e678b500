"""The HTTP seam to a SCIM 2.0 service: discovery, paged reads, writes, retries, error translation.

Resources cross this boundary as plain JSON objects, exactly as SCIM sends them (`schemas`,
extension attributes under their URN keys). scim2-client's typed verbs (create, query, modify…)
validate every payload against pydantic models, which must then be built from the service's
/Schemas; a service without /Schemas, or one whose extension documents are slightly off
(common in the field), would make every call fail. So requests go through scim2-client's
lower-level pair instead: `request()` to send (it turns httpx2 failures into one exception) and
`check_response()` to read the answer (content type, status, RFC 7644 §3.12 Error bodies into
SCIMExceptions carrying status, scimType and detail).
"""

from __future__ import annotations

import json
import random
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx2
from scim2_client import SCIMClientException
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_client.errors import RequestNetworkException
from scim2_models import SCIMException

from hrsync.connectors.retry_after import retry_after_seconds
from hrsync.connectors.scim.config import ScimConfig
from hrsync.connectors.scim.discovery import ServiceInfo, parse_service_info
from hrsync.connectors.scim.errors import (
    RETRYABLE_STATUSES,
    UNPROCESSED_STATUSES,
    ScimAccessError,
    ScimError,
    ScimRejectedError,
    ScimUnavailableError,
    shorten,
    translate_failure,
)
from hrsync.connectors.scim.patch import PatchOp, patch_request

Resource = dict[str, Any]
"""One SCIM resource or message as JSON; `Any` stops here, at the edge."""

Params = dict[str, str | int]

BULK_REQUEST_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SCIM_MEDIA_TYPE = "application/scim+json"
USER_AGENT = "hrsync (SCIM target)"
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "PATCH", "DELETE"})
"""PATCH is listed because hrsync sends replace/remove ops and member adds, which a repeat
leaves as they were; a POST is repeated only when the server cannot have acted on it."""

MAX_DELAY_SECONDS = 60.0
"""No single wait is longer than this, whatever Retry-After asks for."""

DISCOVERY_PATHS = ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas")
UNPUBLISHED_STATUSES = frozenset({400, 404, 405, 501})
"""Answers by which a service says it does not publish a discovery document."""


def build_http_client(
    config: ScimConfig, *, transport: httpx2.BaseTransport | None = None
) -> httpx2.Client:
    """The one httpx2 client of a SCIM target: base URL, credentials, TLS and timeout."""
    verify: ssl.SSLContext | bool = config.tls_verify
    if config.tls_verify and config.ca_file:
        verify = ssl.create_default_context(cafile=config.ca_file)
    auth: httpx2.BasicAuth | None = None
    headers = {"Accept": f"{SCIM_MEDIA_TYPE}, application/json", "User-Agent": USER_AGENT}
    if config.auth == "basic":
        assert config.password is not None  # the config's validator guarantees it
        auth = httpx2.BasicAuth(config.username or "", config.password.get_secret_value())
    else:
        assert config.token is not None
        headers["Authorization"] = f"Bearer {config.token.get_secret_value().strip()}"
    return httpx2.Client(
        base_url=config.url + "/",
        headers=headers,
        auth=auth,
        verify=verify,
        timeout=config.timeout_seconds,
        follow_redirects=False,
        transport=transport,
    )


@dataclass(frozen=True, slots=True)
class _Retry:
    """A failed attempt worth repeating, and how long the server asked us to wait."""

    reason: str
    is_unprocessed: bool
    retry_after: float | None = None
    status: int | None = None
    scim_type: str | None = None
    detail: str | None = None


BULK_ENVELOPE_BYTES = 256
"""Bytes of a bulk request besides its operations (schemas, the Operations key), rounded up."""


class ScimClient:
    """Speaks SCIM 2.0 to one service over the injected `http` client (its base URL is the SCIM
    base URL). `info` is what discovery found; when None, the first call that needs it discovers.

    `sleep` and `rng` are the clock and dice of the back-off, injectable so tests stay fast and
    can assert the waits. Every failure is a ScimError (a TargetError), see `errors`.
    """

    def __init__(
        self,
        http: httpx2.Client,
        info: ServiceInfo | None = None,
        *,
        page_size: int = 100,
        max_retries: int = 4,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self._scim = SyncSCIMClient(http)
        self._info = info
        self._page_size = page_size
        self._max_retries = max_retries
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._owns_http = False

    @classmethod
    def from_config(cls, config: ScimConfig, **options: Any) -> ScimClient:
        """A client with its own httpx2 client built from `config`; close it when done."""
        client = cls(
            build_http_client(config),
            page_size=config.page_size,
            max_retries=config.max_retries,
            backoff_seconds=config.backoff_seconds,
            **options,
        )
        client._owns_http = True
        return client

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

    # Discovery.

    @property
    def info(self) -> ServiceInfo:
        """What the service can do, discovered on first use."""
        return self._info or self.discover()

    def discover(self) -> ServiceInfo:
        """Read /ServiceProviderConfig, /ResourceTypes and /Schemas (tolerating any of them
        missing, see `discovery`), remember and return what they say."""
        notes: list[str] = []
        documents = [self._discovery_document(path, notes) for path in DISCOVERY_PATHS]
        config, resource_types, schemas = documents
        self._info = parse_service_info(config, resource_types, schemas, notes)
        return self._info

    def _discovery_document(self, path: str, notes: list[str]) -> Any:
        try:
            return self._exchange("GET", path, [200])
        except ScimAccessError:
            raise
        except ScimError as error:
            if error.status not in UNPUBLISHED_STATUSES:
                raise
            notes.append(f"GET {path} answered {error.status}: the service does not publish it")
            return None

    # Reads.

    def iter_users(self, attributes: Sequence[str] | None = None) -> Iterator[Resource]:
        """Every User, page by page."""
        return self._pages(self.info.user_endpoint, _attribute_params(attributes))

    def iter_groups(self, attributes: Sequence[str] | None = None) -> Iterator[Resource]:
        """Every Group, page by page (`attributes=["displayName"]` leaves big member lists out)."""
        return self._pages(self._group_endpoint(), _attribute_params(attributes))

    def find_users(self, filter: str, attributes: Sequence[str] | None = None) -> list[Resource]:
        """The Users matching a SCIM filter, e.g. `equals_filter("externalId", "1042")`."""
        params = {**_attribute_params(attributes), "filter": filter}
        return list(self._pages(self.info.user_endpoint, params))

    def find_groups(self, filter: str, attributes: Sequence[str] | None = None) -> list[Resource]:
        params = {**_attribute_params(attributes), "filter": filter}
        return list(self._pages(self._group_endpoint(), params))

    def get_user(self, id: str) -> Resource:
        return self._resource(self._exchange("GET", self._user_url(id), [200]))

    def get_group(self, id: str) -> Resource:
        return self._resource(self._exchange("GET", self._group_url(id), [200]))

    # Writes.

    def create_user(self, payload: Resource) -> Resource:
        """POST a User; the created resource as the server returns it (with its `id`)."""
        return self._resource(self._exchange("POST", self.info.user_endpoint, [200, 201], payload))

    def update_user(self, id: str, operations: list[PatchOp], full: Resource) -> Resource | None:
        """Apply `operations` by PATCH when the service supports it, else PUT `full` (the whole
        desired resource). The updated resource, or None when the server answered 204."""
        return self._update(self._user_url(id), operations, full)

    def delete_user(self, id: str) -> None:
        self._exchange("DELETE", self._user_url(id), [200, 204])

    def create_group(self, payload: Resource) -> Resource:
        return self._resource(self._exchange("POST", self._group_endpoint(), [200, 201], payload))

    def patch_group(self, id: str, operations: list[PatchOp]) -> Resource | None:
        """PATCH a Group (member adds and removes); refused when the service has no PATCH."""
        if not self.info.supports_patch:
            raise ScimRejectedError(
                f"PATCH {self._group_url(id)}: the service does not support PATCH; "
                "use update_group with the whole group"
            )
        return self._patch(self._group_url(id), operations)

    def update_group(self, id: str, operations: list[PatchOp], full: Resource) -> Resource | None:
        """As update_user, for a Group: PATCH when supported, else PUT `full`."""
        return self._update(self._group_url(id), operations, full)

    def delete_group(self, id: str) -> None:
        self._exchange("DELETE", self._group_url(id), [200, 204])

    def bulk(self, operations: Sequence[Resource]) -> list[Resource]:
        """Send RFC 7644 §3.7 bulk operations (each with method, path, bulkId, data), in as many
        requests as the service's maxOperations and maxPayloadSize ask; the per-operation
        results in order."""
        if not self.info.supports_bulk:
            raise ScimRejectedError("POST /Bulk: the service does not support bulk operations")
        results: list[Resource] = []
        for chunk in self._bulk_chunks(operations):
            body = {"schemas": [BULK_REQUEST_URN], "Operations": chunk}
            answer = self._resource(self._exchange("POST", "/Bulk", [200], body))
            results.extend(op for op in answer.get("Operations") or [] if isinstance(op, dict))
        return results

    def _bulk_chunks(self, operations: Sequence[Resource]) -> Iterator[list[Resource]]:
        """The operations in requests of at most maxOperations, and of at most maxPayloadSize
        bytes (less a margin for the envelope); one operation too large alone is sent alone,
        for the server to refuse by itself."""
        info = self.info
        most = info.bulk_max_operations or max(1, len(operations))
        room = (info.bulk_max_payload_size or 0) - BULK_ENVELOPE_BYTES
        chunk: list[Resource] = []
        size = 0
        for operation in operations:
            length = len(json.dumps(operation, ensure_ascii=False).encode()) + 1
            if chunk and (len(chunk) >= most or (room > 0 and size + length > room)):
                yield chunk
                chunk, size = [], 0
            chunk.append(operation)
            size += length
        if chunk:
            yield chunk

    def _update(self, url: str, operations: list[PatchOp], full: Resource) -> Resource | None:
        if self.info.supports_patch:
            return self._patch(url, operations) if operations else None
        return self._resource(self._exchange("PUT", url, [200], full))

    def _patch(self, url: str, operations: list[PatchOp]) -> Resource | None:
        answer = self._exchange("PATCH", url, [200, 204], patch_request(operations))
        return None if answer is None else self._resource(answer)

    # Paging.

    def _pages(self, endpoint: str, params: Params) -> Iterator[Resource]:
        """Every resource of a list, `count` at a time from `startIndex` 1 (RFC 7644 §3.4.2.4),
        until totalResults. A server that ignores `count` and sends everything ends the loop
        at once; one that ignores `startIndex` is refused rather than read as a shorter list."""
        size = min(self._page_size, self.info.filter_max_results or self._page_size)
        start, previous = 1, None
        while True:
            page = self._resource(
                self._exchange(
                    "GET", endpoint, [200], None, {**params, "startIndex": start, "count": size}
                )
            )
            resources = [r for r in page.get("Resources") or [] if isinstance(r, dict)]
            ids = [r.get("id") for r in resources]
            if not resources:
                return
            if ids == previous:
                raise ScimRejectedError(
                    f"GET {endpoint}: the service answered startIndex={start} with the same page "
                    "as before: it ignores startIndex, so the list cannot be read whole"
                )
            yield from resources
            start += len(resources)
            if _is_last_page(page.get("totalResults"), start, len(resources), size):
                return
            previous = ids

    # Requests, retries and error translation.

    def _exchange(
        self,
        method: str,
        url: str,
        expected: list[int],
        body: Resource | None = None,
        params: Params | None = None,
    ) -> Any:
        """Send one request, retrying what may be retried with back-off; the decoded answer
        (None for an empty one), or a ScimError."""
        attempt = 0
        while isinstance(result := self._attempt(method, url, expected, body, params), _Retry):
            is_repeatable = method in IDEMPOTENT_METHODS or result.is_unprocessed
            if not is_repeatable or attempt >= self._max_retries:
                raise _gave_up(f"{method} {url}", result, attempt + 1, is_repeatable)
            self._sleep(self.delay(attempt, result.retry_after))
            attempt += 1
        return result

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry `attempt + 1`: Retry-After if given, else exponential
        back-off with jitter (half fixed, half random), capped at a minute either way."""
        if retry_after is not None:
            return min(MAX_DELAY_SECONDS, retry_after)
        ceiling = min(MAX_DELAY_SECONDS, self._backoff_seconds * 2.0**attempt)
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _attempt(
        self,
        method: str,
        url: str,
        expected: list[int],
        body: Resource | None,
        params: Params | None,
    ) -> Any:
        headers = {"Content-Type": SCIM_MEDIA_TYPE} if body is not None else {}
        try:
            response = self._scim.request(method, url, json=body, params=params, headers=headers)
        except RequestNetworkException as exc:
            return _network_retry(exc.__cause__)
        return self._read(response, method, url, expected)

    def _read(self, response: httpx2.Response, method: str, url: str, expected: list[int]) -> Any:
        status = response.status_code
        try:
            payload = response.json() if response.content else None
        except ValueError:
            if 200 <= status < 300:
                # A body cut short on the way; asking again usually cures it.
                return _Retry("the answer was not valid JSON", is_unprocessed=False, status=status)
            payload = None
        try:
            return self._scim.check_response(
                payload, status, response.headers, expected_status_codes=expected
            )
        except SCIMException as exc:
            scim_type, detail = exc.scim_type or None, exc.detail
        except SCIMClientException as exc:
            scim_type, detail = None, shorten(response.text) or exc.message
        if status in RETRYABLE_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            reason = f"HTTP {status}" + (f" ({detail})" if detail else "")
            return _Retry(reason, status in UNPROCESSED_STATUSES, wait, status, scim_type, detail)
        credential = _credential_name(response.request)
        raise translate_failure(f"{method} {url}", status, scim_type, detail, credential=credential)

    # URLs.

    def _user_url(self, id: str) -> str:
        return f"{self.info.user_endpoint}/{_segment(id)}"

    def _group_url(self, id: str) -> str:
        return f"{self._group_endpoint()}/{_segment(id)}"

    def _group_endpoint(self) -> str:
        endpoint = self.info.group_endpoint
        if endpoint is None:
            raise ScimRejectedError("the service lists no Group resource type: it has no groups")
        return endpoint

    @staticmethod
    def _resource(answer: Any) -> Resource:
        if not isinstance(answer, dict):
            raise ScimRejectedError(f"the service answered {type(answer).__name__}, not a resource")
        return answer


def _is_last_page(total: Any, next_start: int, received: int, size: int) -> bool:
    """Whether a list ends here: past totalResults, or (without one) a short page."""
    if isinstance(total, int) and not isinstance(total, bool):
        return next_start > total
    return received < size


def _network_retry(cause: BaseException | None) -> _Retry:
    if isinstance(cause, httpx2.ConnectTimeout | httpx2.ConnectError):
        # The connection was never made, so the request cannot have been acted on.
        return _Retry(f"could not connect ({type(cause).__name__}: {cause})", is_unprocessed=True)
    if isinstance(cause, httpx2.TimeoutException):
        return _Retry(f"timed out ({type(cause).__name__})", is_unprocessed=False)
    return _Retry(f"connection failed ({type(cause).__name__}: {cause})", is_unprocessed=False)


def _gave_up(
    action: str, retry: _Retry, attempts: int, is_repeatable: bool
) -> ScimUnavailableError:
    why = (
        f"gave up after {attempts} attempts"
        if is_repeatable
        else "not repeated, as the service may have acted on it (the next run will find out)"
    )
    return ScimUnavailableError(
        f"{action}: the SCIM service did not answer: {retry.reason}; {why}",
        status=retry.status,
        scim_type=retry.scim_type,
        detail=retry.detail,
    )


def _credential_name(request: httpx2.Request) -> str:
    """What the request authenticated with, for an admin; never the credential itself."""
    scheme = request.headers.get("Authorization", "").split(" ", 1)[0].lower()
    return "username and password" if scheme == "basic" else "token"


def _attribute_params(attributes: Sequence[str] | None) -> Params:
    return {"attributes": ",".join(attributes)} if attributes else {}


def _segment(id: str) -> str:
    return quote(id, safe="")
