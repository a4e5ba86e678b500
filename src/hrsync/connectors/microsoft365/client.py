"""Microsoft Graph over httpx2: an app-only token by client credentials, cached until shortly
before it expires; requests retried as Graph's throttling guidance asks (429, 503 and 504 after
their Retry-After, else with back-off); lists followed through `@odata.nextLink`; JSON `$batch`.

The client secret and the access token never reach a log or an error message.
"""

from __future__ import annotations

import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
import structlog

from hrsync.connectors.microsoft365.config import Microsoft365Config
from hrsync.connectors.microsoft365.errors import (
    RETRYABLE_STATUSES,
    GraphAccessError,
    GraphError,
    GraphUnavailableError,
    translate_failure,
)
from hrsync.connectors.retry_after import retry_after_seconds

log = structlog.get_logger(__name__)

Json = dict[str, Any]
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
TOKEN_MARGIN = 60.0
"""Seconds before its expiry a token is renewed, so none expires mid-request."""
USER_AGENT = "hrsync"
NOT_FOUND_RETRIES = 4
"""How often a 404 about a user just created is asked again: replication takes seconds, and a
user that is really gone should not hold the run for the whole back-off."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One Graph answer: status, headers keyed by lower-case name, decoded body (or None)."""

    status: int
    headers: Mapping[str, str]
    body: Any


class GraphClient:
    """One tenant's Graph. `sleep`, `clock` and `rng` are injectable so tests stay fast."""

    def __init__(
        self,
        config: Microsoft365Config,
        *,
        http: httpx2.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._http = http or build_http_client(config)
        self._sleep, self._clock = sleep, clock
        self._rng = rng or random.Random()
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # --- the token -----------------------------------------------------------------------------

    def token(self) -> str:
        """A valid access token: the cached one, or a new one when it is about to expire."""
        with self._lock:
            if self._token and self._clock() < self._expires - TOKEN_MARGIN:
                return self._token
            self._token, lifetime = self._fetch_token()
            self._expires = self._clock() + lifetime
            return self._token

    def forget_token(self) -> None:
        with self._lock:
            self._token, self._expires = "", 0.0

    def _fetch_token(self) -> tuple[str, float]:
        config = self.config
        form = {
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": config.client_secret.get_secret_value(),
            "scope": GRAPH_SCOPE,
        }
        action = f"POST {config.token_url}"
        for attempt in range(config.max_retries + 1):
            try:
                response = self._http.post(config.token_url, data=form)
            except httpx2.TransportError as error:
                if attempt == config.max_retries:
                    raise GraphUnavailableError(f"{action}: {type(error).__name__}") from None
                self._sleep(self._backoff(attempt, None))
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt < config.max_retries:
                self._sleep(self._backoff(attempt, response.headers.get("retry-after")))
                continue
            return _read_token(action, response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    # --- requests ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Json | None = None,
        params: Mapping[str, str] | None = None,
        expected: Sequence[int] = (200, 201, 204),
        retry_not_found: bool = False,
    ) -> Any:
        """Send one Graph request (`path` under graph_url, or an absolute nextLink); the decoded
        body (None when empty). Throttling and 503/504 are retried after Retry-After, then end
        as GraphUnavailableError. `retry_not_found`: a 404 is retried with back-off too (a user
        just created may not have reached every replica yet)."""
        action = f"{method} {path.partition('?')[0]}"
        for attempt in range(self.config.max_retries + 1):
            answer = self._send(
                method, path, body=body, params=params, action=action, attempt=attempt
            )
            if answer is None:
                continue
            if answer.status in expected:
                return answer.body
            is_last = attempt == self.config.max_retries
            if answer.status == 401 and attempt == 0:
                self.forget_token()  # expired or revoked: one new token, then it is final
                continue
            retryable = answer.status in RETRYABLE_STATUSES or (
                retry_not_found and answer.status == 404 and attempt < NOT_FOUND_RETRIES
            )
            if retryable and not is_last:
                self._wait(attempt, answer, action)
                continue
            raise failure_of(action, answer)
        raise GraphUnavailableError(f"{action}: no answer after {self.config.max_retries} retries")

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Json | None,
        params: Mapping[str, str] | None,
        action: str,
        attempt: int,
    ) -> Answer | None:
        """One attempt; None when the request did not get through and may be sent again."""
        url = path if path.startswith("http") else self.config.graph_url + path
        headers = {"Authorization": f"Bearer {self.token()}"}
        try:
            response = self._http.request(method, url, json=body, params=params, headers=headers)
        except httpx2.TransportError as error:
            # A POST that timed out may have created the user: it is not sent again, and the
            # next run finds the user by its person id if it was.
            if method == "POST" or attempt == self.config.max_retries:
                raise GraphUnavailableError(f"{action}: {type(error).__name__}") from None
            self._sleep(self._backoff(attempt, None))
            return None
        return Answer(response.status_code, response.headers, _decoded(response))

    def _wait(self, attempt: int, answer: Answer, action: str) -> None:
        delay = self._backoff(attempt, answer.headers.get("retry-after"))
        if delay > self.config.max_retry_after_seconds:
            raise GraphUnavailableError(
                f"{action}: {answer.status}; Graph asks to wait {delay:.0f} s, longer than "
                f"max_retry_after_seconds ({self.config.max_retry_after_seconds:.0f})",
                status=answer.status,
            )
        log.info("graph.retry", action=action, status=answer.status, delay=round(delay, 2))
        self._sleep(delay)

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        """Retry-After when Graph sends one; else exponential back-off with jitter."""
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            return asked
        base = self.config.backoff_seconds * (2.0**attempt)
        return base * (0.5 + self._rng.random())

    # --- lists and batches ---------------------------------------------------------------------

    def pages(self, path: str, params: Mapping[str, str]) -> Iterator[Json]:
        """Every item of a list, page by page through `@odata.nextLink` (which carries the
        query itself)."""
        page = self.request("GET", path, params=params, expected=(200,))
        while True:
            yield from (item for item in page.get("value") or () if isinstance(item, dict))
            link = page.get("@odata.nextLink")
            if not link:
                return
            page = self.request("GET", str(link), expected=(200,))

    def batch(
        self, requests: Sequence[Json], *, retry_not_found: bool = False
    ) -> dict[str, Answer]:
        """One `$batch` of at most 20 requests; each request's answer by its id. Requests Graph
        throttled inside the batch (and, with `retry_not_found`, those answered 404) are sent
        again, in a new batch, after their Retry-After."""
        again_on = RETRYABLE_STATUSES | ({404} if retry_not_found else set())
        answers: dict[str, Answer] = {}
        pending = list(requests)
        for attempt in range(self.config.max_retries + 1):
            body = self.request("POST", "/$batch", body={"requests": pending}, expected=(200,))
            again = []
            for found in body.get("responses") or ():
                answer = Answer(
                    int(found.get("status") or 500),
                    {str(k).lower(): str(v) for k, v in (found.get("headers") or {}).items()},
                    found.get("body"),
                )
                answers[str(found.get("id"))] = answer
                if answer.status in again_on:
                    again.append(str(found.get("id")))
            pending = _resendable(pending, again, answers)
            if not pending or attempt == self.config.max_retries:
                return answers
            waits = [answers[str(r["id"])] for r in pending if str(r["id"]) in again]
            self._wait(attempt, max(waits, key=_retry_after), "POST /$batch")
        return answers


def _resendable(
    pending: Sequence[Json], throttled: Sequence[str], answers: dict[str, Answer]
) -> list[Json]:
    """The throttled requests and those that failed only because one of them did (424), with
    dependencies on requests that have since succeeded dropped."""
    resend = set(throttled) | {
        str(r["id"])
        for r in pending
        if answers.get(str(r["id"])) and answers[str(r["id"])].status == 424
    }
    kept = []
    for request in pending:
        if str(request["id"]) not in resend:
            continue
        depends = [d for d in request.get("dependsOn") or () if d in resend]
        kept.append(
            {k: v for k, v in request.items() if k != "dependsOn"}
            | ({"dependsOn": depends} if depends else {})
        )
    return kept


def _retry_after(answer: Answer) -> float:
    return retry_after_seconds(answer.headers.get("retry-after")) or 0.0


def failure_of(action: str, answer: Answer) -> GraphError:
    """The error a final answer stands for, Graph's code and message quoted."""
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    code = message = None
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
    return translate_failure(action, answer.status, _text(code), _text(message))


def _text(value: object) -> str | None:
    return str(value) if value else None


def _decoded(response: httpx2.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return {"error": {"code": "NotJson", "message": response.text[:200]}}


def _read_token(action: str, response: httpx2.Response) -> tuple[str, float]:
    """The access token and its lifetime; Entra's AADSTS description on a refusal."""
    body = _decoded(response)
    if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
        return str(body["access_token"]), float(body.get("expires_in") or 3599)
    description = body.get("error_description") if isinstance(body, dict) else None
    error = body.get("error") if isinstance(body, dict) else None
    text = f"{action}: {response.status_code}" + (f" {error}" if isinstance(error, str) else "")
    if description:
        text += f": {str(description).splitlines()[0][:300]}"
    if response.status_code in RETRYABLE_STATUSES or response.status_code >= 500:
        raise GraphUnavailableError(text, status=response.status_code)
    raise GraphAccessError(text, status=response.status_code, code=str(error or ""))


def build_http_client(
    config: Microsoft365Config, *, transport: httpx2.BaseTransport | None = None
) -> httpx2.Client:
    """The one httpx2 client of a Microsoft 365 target: TLS, timeout, user agent."""
    verify: ssl.SSLContext | bool = config.tls_verify
    return httpx2.Client(
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        verify=verify,
        timeout=config.timeout_seconds,
        transport=transport,
    )
