"""SCIM failures, translated from HTTP status and RFC 7644 §3.12 error bodies into TargetErrors.

TargetError                     (hrsync.domain.errors)
└── ScimError                   carries status, scim_type and detail as the server sent them
    ├── ScimUnavailableError    TransientError: gave up after retries (429, 5xx, timeouts)
    ├── ScimNotFoundError       NotFoundError: 404, the resource id is gone
    ├── ScimConflictError       AlreadyExistsError: 409 (scimType uniqueness, or none)
    ├── ScimAccessError         RejectedError: 401/403, the token or the account's rights
    └── ScimRejectedError       RejectedError: any other 4xx, 412 and a 409 of another kind
"""

from __future__ import annotations

from hrsync.domain.errors import (
    AlreadyExistsError,
    NotFoundError,
    RejectedError,
    TargetError,
    TransientError,
)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses worth asking again; every other 4xx or 5xx is final."""

UNPROCESSED_STATUSES = frozenset({429, 503})
"""Statuses by which the server says it did not act: safe to repeat even a POST."""

MAX_SHOWN = 300
"""How much of a server's detail is quoted back to an admin."""


class ScimError(TargetError):
    """A SCIM request failed. `status`, `scim_type` and `detail` are what the server sent
    (None when it sent none); the message, meant for an admin, carries them too."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        scim_type: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.scim_type = scim_type
        self.detail = detail


class ScimUnavailableError(ScimError, TransientError):
    pass


class ScimNotFoundError(ScimError, NotFoundError):
    pass


class ScimConflictError(ScimError, AlreadyExistsError):
    pass


class ScimAccessError(ScimError, RejectedError):
    pass


class ScimRejectedError(ScimError, RejectedError):
    pass


def translate_failure(
    action: str,
    status: int,
    scim_type: str | None,
    detail: str | None,
    *,
    credential: str = "token",
) -> ScimError:
    """The error for a final (non-retryable) answer to `action` (e.g. "POST /Users"), worded as
    "POST /Users: 409 uniqueness: User already exists: anna@x". `credential` names what the
    request authenticated with ("token", "username and password") for the 401 wording."""
    scim_type = scim_type or None
    detail = shorten(detail) if detail else None
    problem = ": ".join(part for part in (f"{status} {scim_type or ''}".strip(), detail) if part)
    kind, message = _classify(action, status, scim_type, problem, credential)
    return kind(message, status=status, scim_type=scim_type, detail=detail)


def _classify(
    action: str, status: int, scim_type: str | None, problem: str, credential: str
) -> tuple[type[ScimError], str]:
    if status == 401:
        return ScimAccessError, (
            f"{action}: the SCIM {credential} was refused ({problem}): check the credential in "
            "the connection settings, and that it has not expired"
        )
    if status == 403:
        return ScimAccessError, (
            f"{action}: the SCIM {credential} was accepted but lacks the rights for this "
            f"({problem}): ask the application's admin to grant provisioning rights"
        )
    if status == 412:
        return ScimRejectedError, (
            f"{action}: the resource changed meanwhile ({problem}): read it again"
        )
    kind: type[ScimError] = ScimRejectedError
    if status == 404:
        kind = ScimNotFoundError
    elif status == 409 and scim_type in (None, "uniqueness"):
        kind = ScimConflictError
    elif status in RETRYABLE_STATUSES:
        kind = ScimUnavailableError
    return kind, f"{action}: {problem}"


def shorten(text: str) -> str:
    """`text` on one line, cut to MAX_SHOWN characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_SHOWN else flat[: MAX_SHOWN - 1] + "…"
