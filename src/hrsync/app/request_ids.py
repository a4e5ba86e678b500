"""A request id for every console and API request: bound into its log lines and sent back in
`X-Request-ID`, so a user's report and the server's log meet on one id.

A proxy's `X-Request-ID` is kept when it looks like an id (it then names the request across
the proxy's log too); anything else is replaced, so a caller cannot write into the log.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_of(given: str) -> str:
    """The caller's id when it is one (8 to 64 letters, digits, `.`, `_`, `-`), else a new one."""
    return given if _ID.fullmatch(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Binds `request_id` for the request's log lines (Django's own included) and unbinds it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request.headers.get(HEADER, ""))
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response
