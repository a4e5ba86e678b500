"""AFAS failures, translated from HTTP into the engine's SourceError at the client boundary.

SourceError                       (hrsync.domain.errors)
└── AfasError
    ├── TokenRefusedError         401: the token is wrong, expired or not an AfasToken
    ├── AccessDeniedError         403: the app connector does not include the GetConnector
    ├── ConnectorNotFoundError    404: no GetConnector by that id
    ├── RequestRejectedError      other 4xx and 5xx, with AFAS's externalMessage
    └── UnavailableError          gave up after retries (429, 500, 502-504, timeouts, bad JSON)
"""

from __future__ import annotations

import json

from hrsync.domain.errors import SourceError, SourceUnavailableError

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""What integrators retry (research §6.1, OBSERVED); hrsync only reads, so a GET may repeat."""

MAX_SHOWN = 300


class AfasError(SourceError):
    """AFAS could not be read. The message is meant for an admin."""


class TokenRefusedError(AfasError):
    pass


class AccessDeniedError(AfasError):
    pass


class ConnectorNotFoundError(AfasError):
    pass


class RequestRejectedError(AfasError):
    pass


class UnavailableError(AfasError, SourceUnavailableError):
    pass


def describe_error(body: str) -> str:
    """AFAS's `externalMessage` (with the log reference support asks for), else the text."""
    try:
        value = json.loads(body) if body.strip() else None
    except ValueError:
        value = None
    if isinstance(value, dict) and value.get("externalMessage"):
        reference = value.get("profitLogReference")
        text = str(value["externalMessage"])
        return _shorten(f"{text} (log reference {reference})" if reference else text)
    return _shorten(" ".join(body.split()))


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
