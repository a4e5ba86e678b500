"""The HTTP seam to Oneflow: token and user headers, retries with back-off, error translation,
and the calls the contract write-back makes. Returns raw JSON objects as Oneflow sends them."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx2

from hrsync.connectors.oneflow.config import OneflowConfig
from hrsync.connectors.oneflow.errors import (
    OneflowNotFoundError,
    OneflowRejectedError,
    OneflowUnavailableError,
    describe,
)
from hrsync.connectors.retry_after import retry_after_seconds

Record = dict[str, Any]
RETRYABLE = frozenset({429, 500, 502, 503, 504})
MAX_DELAY_SECONDS = 30.0
USER_AGENT = "hrsync (Oneflow contract write-back)"


class OneflowClient:
    """Talks to Oneflow as `config.user_email`. Pass `http` or `transport` to point it elsewhere;
    `sleep` and `rng` drive the back-off (tests inject them)."""

    def __init__(
        self,
        config: OneflowConfig,
        http: httpx2.Client | None = None,
        *,
        transport: httpx2.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._owns_http = http is None
        self._http = http or httpx2.Client(
            transport=transport, timeout=config.timeout_seconds, follow_redirects=False
        )
        self._sleep = sleep
        self._rng = rng or random.Random()

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

    # --- the calls ----------------------------------------------------------------------------

    def ping(self) -> None:
        self.request("GET", "/ping")

    def users(self) -> list[Record]:
        return self._all("/users")

    def contract(self, contract_id: int) -> Record:
        return self.request("GET", f"/contracts/{contract_id}")

    def template(self, template_id: int) -> Record:
        return self.request("GET", f"/templates/{template_id}")

    def template_types(self) -> list[Record]:
        return self._all("/template_types")

    def create_template_type(self, name: str, fields: list[tuple[str, str]]) -> Record:
        """A template group with these (custom id, name) data fields (the route is INFERRED)."""
        body = {"name": name, "data_fields": [{"custom_id": c, "name": n} for c, n in fields]}
        return self.request("POST", "/template_types", body)

    def set_data_field(self, contract_id: int, custom_id: str, value: str) -> Record:
        path = f"/contracts/{contract_id}/data_fields/c::{quote(custom_id, safe='')}"
        return self.request("PUT", path, {"value": value})

    def add_party(self, contract_id: int, party: Record) -> Record:
        return self.request("POST", f"/contracts/{contract_id}/parties", party)

    def delete_party(self, contract_id: int, party_id: int) -> None:
        self.request("DELETE", f"/contracts/{contract_id}/parties/{party_id}")

    def add_participant(self, contract_id: int, party_id: int, participant: Record) -> Record:
        path = f"/contracts/{contract_id}/parties/{party_id}/participants"
        return self.request("POST", path, participant)

    def files(self, contract_id: int) -> list[Record]:
        listed = self.request("GET", f"/contracts/{contract_id}/files").get("data") or []
        return [item for item in listed if isinstance(item, dict)]

    def download_contract_pdf(self, contract_id: int) -> bytes:
        """The contract PDF (file type "contract"), asking again while it is not ready yet: a
        fresh contract's PDF may take a moment (research §2.2)."""
        for attempt in range(self._config.pdf_attempts):
            pdf = next((f for f in self.files(contract_id) if f.get("type") == "contract"), None)
            if pdf is not None:
                return self._download(contract_id, int(pdf["id"]))
            if attempt + 1 < self._config.pdf_attempts:
                self._sleep(self._delay(attempt, None))
        raise OneflowUnavailableError(f"the PDF of contract {contract_id} is not ready yet")

    def _download(self, contract_id: int, file_id: int) -> bytes:
        path = f"/contracts/{contract_id}/files/{file_id}"
        response = self._send("GET", path, None, params={"download": "true"})
        if response.status_code in (301, 302, 303, 307):
            # The pre-signed URL carries its own authorisation; Oneflow's headers stay home.
            blob = self._retrying(lambda: self._http.get(response.headers["Location"]), path)
            return blob.content
        return response.content

    # --- requests -----------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Record | None = None) -> Record:
        response = self._send(method, path, body)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            value = response.json()
        except ValueError:
            raise OneflowUnavailableError(f"{method} {path}: the answer was not JSON") from None
        return value if isinstance(value, dict) else {"data": value}

    def _all(self, path: str) -> list[Record]:
        found: list[Record] = []
        offset = 0
        while True:
            page = self.request("GET", f"{path}?limit=100&offset={offset}")
            items = [item for item in page.get("data") or [] if isinstance(item, dict)]
            found += items
            if not (page.get("_links") or {}).get("next") or not items:
                return found
            offset += len(items)

    def _send(
        self, method: str, path: str, body: Record | None, params: dict[str, str] | None = None
    ) -> httpx2.Response:
        # A POST that timed out may have been applied; the steps check before they add, so a
        # repeat finds what the first one made instead of making it twice.
        response = self._retrying(
            lambda: self._http.request(
                method,
                self._config.url + path,
                json=body,
                params=params,
                headers=self._headers(),
            ),
            f"{method} {path}",
        )
        status = response.status_code
        if status < 400:
            return response
        detail, code, problems = describe(response.text)
        message = f"Oneflow {method} {path}: HTTP {status}" + (f": {detail}" if detail else "")
        if status == 404:
            raise OneflowNotFoundError(message)
        raise OneflowRejectedError(message, status, code, problems)

    def _retrying(self, send: Callable[[], httpx2.Response], what: str) -> httpx2.Response:
        attempt = 0
        while True:
            try:
                response = send()
            except httpx2.TransportError as exc:
                reason, wait = f"{type(exc).__name__}: {exc}", None
            else:
                if response.status_code not in RETRYABLE:
                    return response
                reason = f"HTTP {response.status_code}"
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt >= self._config.max_retries:
                raise OneflowUnavailableError(
                    f"Oneflow {what} failed {attempt + 1} times: {reason}"
                )
            self._sleep(self._delay(attempt, wait))
            attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(MAX_DELAY_SECONDS, retry_after)
        ceiling = min(MAX_DELAY_SECONDS, self._config.backoff_seconds * 2.0**attempt)
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _headers(self) -> dict[str, str]:
        return {
            "x-oneflow-api-token": self._config.token.get_secret_value(),
            "x-oneflow-user-email": self._config.user_email,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
