"""Flex HRM failures, translated from HTTP into the engine's SourceError at the client boundary.

SourceError                       (hrsync.domain.errors)
└── FlexHrmError
    ├── CredentialsRefusedError   401: instance, username or password wrong
    ├── AccessDeniedError         403: the API user lacks a role or a company
    ├── ResourceNotFoundError     404: the id is gone
    ├── RequestRejectedError      other 4xx and 5xx, with the ProblemDetails title and detail
    └── UnavailableError          gave up after retries (429, 500, 502-504, timeouts, bad JSON)
"""

from __future__ import annotations

import json

from hrsync.domain.errors import SourceError, SourceUnavailableError

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses worth asking again; every other 4xx or 5xx is final. 500 is here because hrsync only
reads (GETs are idempotent) and an ASP.NET API answers 500 for a passing backend fault too."""

MAX_SHOWN = 300
"""How much of an unstructured error body is quoted back to an admin."""


class FlexHrmError(SourceError):
    """Flex HRM could not be read. The message is meant for an admin."""


class CredentialsRefusedError(FlexHrmError):
    pass


class AccessDeniedError(FlexHrmError):
    pass


class ResourceNotFoundError(FlexHrmError):
    pass


class RequestRejectedError(FlexHrmError):
    pass


class UnavailableError(FlexHrmError, SourceUnavailableError):
    pass


def describe_problem(body: str) -> str:
    """One line from an error body: ProblemDetails title, detail and field errors, or the text."""
    try:
        problem = json.loads(body) if body.strip() else None
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        return _shorten(" ".join(body.split()))
    folded = {str(key).casefold(): value for key, value in problem.items()}
    parts = [str(folded[key]) for key in ("title", "detail") if folded.get(key)]
    parts.extend(_field_errors(folded.get("errors")))
    return _shorten("; ".join(parts)) if parts else _shorten(body)


def _field_errors(errors: object) -> list[str]:
    if not isinstance(errors, dict):
        return []
    return [f"{field}: {' '.join(map(str, msgs))}" for field, msgs in errors.items()]


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
