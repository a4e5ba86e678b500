"""Graph and Entra failures, translated from HTTP status and OData error bodies into
TargetErrors.

TargetError                      (hrsync.domain.errors)
└── GraphError                   carries status, code and message as Graph sent them
    ├── GraphUnavailableError    TransientError: gave up after retries (429, 503, 504, timeouts)
    ├── GraphNotFoundError       NotFoundError: 404, the user is gone (or not replicated yet)
    ├── GraphConflictError       AlreadyExistsError: "Another object with the same value for
    │                            property userPrincipalName already exists."
    ├── GraphAccessError         RejectedError: 401/403, the app's secret or permissions
    └── GraphRejectedError       RejectedError: any other 4xx and 5xx
"""

from __future__ import annotations

from hrsync.domain.errors import (
    AlreadyExistsError,
    NotFoundError,
    RejectedError,
    TargetError,
    TransientError,
)

RETRYABLE_STATUSES = frozenset({429, 503, 504})
"""What Graph's throttling guidance says to retry after Retry-After; every other status is
final (a 500 may have done the write)."""
MAX_SHOWN = 300


class GraphError(TargetError):
    """A Graph request failed; the message, meant for an admin, quotes Graph's."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class GraphUnavailableError(GraphError, TransientError):
    pass


class GraphNotFoundError(GraphError, NotFoundError):
    pass


class GraphConflictError(GraphError, AlreadyExistsError):
    pass


class GraphAccessError(GraphError, RejectedError):
    pass


class GraphRejectedError(GraphError, RejectedError):
    pass


def translate_failure(
    action: str, status: int, code: str | None, message: str | None
) -> GraphError:
    """The error for a final answer to `action` ("POST /users anna.berg@contoso.com"), worded
    "POST /users …: 400 Request_BadRequest: Another object with the same value …"."""
    shown = (message or "").strip()[:MAX_SHOWN]
    text = f"{action}: {status}" + (f" {code}" if code else "") + (f": {shown}" if shown else "")
    if status in RETRYABLE_STATUSES:
        return GraphUnavailableError(text, status=status, code=code)
    if status == 404:
        return GraphNotFoundError(text, status=status, code=code)
    if status in (401, 403):
        hint = " (check the app's client secret and its User.ReadWrite.All permission)"
        return GraphAccessError(text + hint, status=status, code=code)
    if status == 400 and "already exists" in shown:
        return GraphConflictError(text, status=status, code=code)
    return GraphRejectedError(text, status=status, code=code)
