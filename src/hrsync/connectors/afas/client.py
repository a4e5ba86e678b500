"""The HTTP seam to AFAS Profit: the AfasToken header, GetConnector paging, retries, errors.

Every method returns rows as AFAS sends them; `parse` reads them.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx2

from hrsync.connectors.afas.config import AfasConfig
from hrsync.connectors.afas.errors import (
    RETRYABLE_STATUSES,
    AccessDeniedError,
    AfasError,
    ConnectorNotFoundError,
    RequestRejectedError,
    TokenRefusedError,
    UnavailableError,
    describe_error,
)
from hrsync.connectors.retry_after import backoff_delay, retry_after_seconds

Row = dict[str, Any]
"""One GetConnector row; `Any` stops here, at the edge."""

MAX_DELAY_SECONDS = 60.0
USER_AGENT = "hrsync (AFAS Profit source)"


@dataclass(frozen=True, slots=True)
class Condition:
    """One GetConnector filter term: `field operator value` (AFAS operatortypes numbers)."""

    field: str
    operator: int
    value: str = ""


Filter = Sequence[Sequence[Condition]]
"""Alternatives (OR, `;` on the wire) of conditions that all must hold (AND, `,`)."""


@dataclass(frozen=True, slots=True)
class _Retry:
    reason: str
    retry_after: float | None = None


def authorization(token: str) -> str:
    """`AfasToken base64(<token><version>1</version><data>…</data></token>)`; a token given
    as the whole XML is sent as it is."""
    xml = token.strip()
    if not xml.lower().startswith("<token>"):
        xml = f"<token><version>1</version><data>{xml}</data></token>"
    return "AfasToken " + base64.b64encode(xml.encode()).decode("ascii")


def filter_params(conditions: Filter) -> dict[str, str]:
    """The filterfieldids / filtervalues / operatortypes of a filter (none when empty).

    AFAS separates terms with `,` and alternatives with `;`, with no escaping: a value holding
    either cannot be filtered on, so it is refused here rather than sent wrong.
    """
    groups = [list(group) for group in conditions if group]
    if not groups:
        return {}
    for condition in (c for group in groups for c in group):
        if any(mark in condition.value for mark in ",;"):
            raise AfasError(f"cannot filter {condition.field} on a value with ',' or ';'")
    return {
        "filterfieldids": ";".join(",".join(c.field for c in g) for g in groups),
        "filtervalues": ";".join(",".join(c.value for c in g) for g in groups),
        "operatortypes": ";".join(",".join(str(c.operator) for c in g) for g in groups),
    }


class AfasClient:
    """Reads AFAS GetConnectors over HTTP. Pass `http` (or `transport`) to point it elsewhere;
    `sleep` and `rng` drive the back-off, injectable so tests stay fast and see the waits."""

    def __init__(
        self,
        config: AfasConfig,
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
        self._headers = {
            "Authorization": authorization(config.token.get_secret_value()),
            "Accept": "application/json",
            "Accept-Language": "nl-nl",  # seen in integrators' code: Profit's messages in Dutch
            "User-Agent": USER_AGENT,
        }

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

    def metainfo(self) -> Any:
        """`GET /metainfo`: the connectors the token may use."""
        return self.get_json("metainfo", {})

    def connector_metainfo(self, connector: str) -> Any:
        """`GET /metainfo/get/{id}`: one GetConnector's fields."""
        return self.get_json(f"metainfo/get/{_segment(connector)}", {})

    def rows(self, connector: str, order: Sequence[str], where: Filter = ()) -> Iterator[Row]:
        """Every row of a GetConnector, page by page with skip/take until an empty page.

        `order` (field ids, `-` for descending) keeps pages from overlapping or missing rows:
        without it AFAS guarantees no order between requests. A short page does not end the
        read: an environment or proxy that caps `take` below `page_size` would otherwise cut
        the import short silently, and every missing employee would look like a leaver. The
        price is one empty page per connector per import.
        """
        take = self._config.page_size
        params: dict[str, str | int] = {"orderbyfieldids": ",".join(order), **filter_params(where)}
        skip = 0
        while page := self.page(connector, {**params, "skip": skip, "take": take}):
            yield from page
            skip += len(page)

    def page(self, connector: str, params: dict[str, str | int]) -> list[Row]:
        path = f"connectors/{_segment(connector)}"
        body = self.get_json(path, params)
        rows = body.get("rows") if isinstance(body, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            shape = sorted(body)[:8] if isinstance(body, dict) else type(body).__name__
            raise AfasError(f"AFAS answered GET {path} without rows ({shape})")
        return rows

    def get_json(self, path: str, params: dict[str, str | int]) -> Any:
        """GET one resource, retrying transient failures with back-off; raise an AfasError."""
        attempt = 0
        while isinstance(result := self._attempt(path, params), _Retry):
            if attempt >= self._config.max_retries:
                raise UnavailableError(
                    f"AFAS did not answer GET {path} after {attempt + 1} attempts: {result.reason}"
                )
            self._sleep(self.delay(attempt, result.retry_after))
            attempt += 1
        return result

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when given, else exponential back-off with jitter; a minute at most."""
        return backoff_delay(
            attempt, retry_after, self._config.backoff_seconds, self._rng, MAX_DELAY_SECONDS
        )

    def _attempt(self, path: str, params: dict[str, str | int]) -> Any:
        url = f"{self._config.base_url}/{path}"
        try:
            response = self._http.get(url, params=params, headers=self._headers)
        except httpx2.TimeoutException as exc:
            return _Retry(f"timed out ({type(exc).__name__})")
        except httpx2.TransportError as exc:
            return _Retry(f"connection failed ({type(exc).__name__}: {exc})")
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            return _Retry(f"HTTP {status} {response.reason_phrase}".strip(), wait)
        if status >= 300:
            raise _status_error(response, path)
        try:
            return response.json()
        except ValueError:
            return _Retry(f"the response to GET {path} was not valid JSON")


def _status_error(response: httpx2.Response, path: str) -> AfasError:
    status = response.status_code
    message = describe_error(response.text)
    detail = f": {message}" if message else ""
    if status == 401:
        return TokenRefusedError(
            "AFAS refused the token (401): check the app connector token and the environment"
            f"{detail}"
        )
    if status == 403:
        return AccessDeniedError(
            f"AFAS denied GET {path} (403): add the GetConnector to the app connector{detail}"
        )
    if status == 404:
        return ConnectorNotFoundError(f"AFAS found nothing at GET {path} (404){detail}")
    if 300 <= status < 400:
        where = response.headers.get("Location", "?")
        return RequestRejectedError(f"AFAS redirected GET {path} to {where}: check the url")
    return RequestRejectedError(f"AFAS rejected GET {path} (HTTP {status}){detail}")


def _segment(value: str) -> str:
    return quote(value, safe="")
