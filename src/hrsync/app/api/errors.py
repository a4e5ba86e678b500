"""One error shape for every failure the API answers, and the handlers that produce it.

`{"error": {"status": 404, "code": "not_found", "message": "...", "details": null}}`

ApiError                  raised by endpoints: status, code, message, details
ninja ValidationError     422 validation_failed (details: ninja's list of {loc, msg, type})
pydantic ValidationError  not handled: endpoints turn a settings model's refusal into an
                          ApiError (`invalid_settings`); anything else is a server bug (500),
                          even though it is a ValueError
AuthenticationError       401 unauthenticated
AuthorizationError,
PermissionDenied          403 forbidden
other ninja HttpError     its status (the CSRF check: 403 csrf_failed)
Http404, DoesNotExist     404 not_found
InvalidValuesError        422 invalid_values (details: {field: message})
LifecycleError            409 conflict (the connection's or run's state does not allow it)
ConfigError, ValueError,
LookupError               400 invalid (a service refused the values)
MissingSecretError,
SecretError               409 secret_unavailable (the object is not configured enough)
SourceError, TargetError,
RunError                  502 upstream_failed (the HR system or target could not be reached)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pydantic
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from hrsync.app.config_errors import ConfigError
from hrsync.app.connection_settings import wiring
from hrsync.app.connections.lifecycle import InvalidValuesError, LifecycleError, RunError
from hrsync.app.security.secrets import SecretError
from hrsync.domain.errors import SourceError, TargetError

STANDARD = (400, 401, 403, 404, 422)
"""Declared on every operation: any of them can answer any request with a body or a path key."""

CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "validation_failed",
    502: "upstream_failed",
}


class ErrorBody(Schema):
    status: int
    code: str
    message: str
    details: list[Any] | dict[str, Any] | None = None


class Error(Schema):
    """Every 4xx (and 502) answer of the API."""

    error: ErrorBody


class ApiError(Exception):
    """Raised by an endpoint to answer with the error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: list[Any] | dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details
        self.code = code or CODES.get(status, "error")


def conflict(message: str, code: str = "conflict") -> ApiError:
    return ApiError(409, message, code=code)


def answers(ok: Any, *extra: int, status: int = 200) -> dict[int, Any]:
    """The `response=` of an operation: its success schema and the declared errors."""
    return {status: ok} | failures(*extra)


def failures(*extra: int) -> dict[int, Any]:
    """The declared errors alone, for an operation whose success is not JSON (CSV)."""
    return dict.fromkeys(sorted({*STANDARD, *extra}), Error)


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: list[Any] | dict[str, Any] | None = None,
) -> HttpResponse:
    body = ErrorBody(
        status=status, code=code or CODES.get(status, "error"), message=message, details=details
    )
    return api.create_response(request, {"error": body.model_dump()}, status=status)


def install_handlers(api: NinjaAPI) -> None:
    """Register the handlers on `api`; the most specific class of an exception wins."""
    simple: Sequence[tuple[type[Exception], int, str | None]] = (
        (AuthenticationError, 401, None),
        (AuthorizationError, 403, None),
        (PermissionDenied, 403, None),
        (Http404, 404, None),
        (ObjectDoesNotExist, 404, None),
        (LifecycleError, 409, None),
        (ConfigError, 400, None),
        (ValueError, 400, None),
        (LookupError, 400, None),
        (wiring.MissingSecretError, 409, "secret_unavailable"),
        (SecretError, 409, "secret_unavailable"),
        (SourceError, 502, None),
        (TargetError, 502, None),
        (RunError, 502, None),
    )
    for kind, status, code in simple:
        api.add_exception_handler(kind, partial(_plain, api, status, code))
    handlers: Sequence[tuple[type[Exception], Callable[..., HttpResponse]]] = (
        (ApiError, _api_error),
        (HttpError, _http_error),
        (ValidationError, _validation_error),
        (InvalidValuesError, _invalid_values),
        (pydantic.ValidationError, _server_bug),
    )
    for kind, handler in handlers:
        api.add_exception_handler(kind, partial(handler, api))


def _plain(
    api: NinjaAPI, status: int, code: str | None, request: HttpRequest, exc: Exception
) -> HttpResponse:
    return error_response(api, request, status, _message(status, exc), code=code)


def _message(status: int, exc: Exception) -> str:
    if status == 404:
        return "not found"  # a DoesNotExist text names the model and query: not worth showing
    if status == 401:
        return "sign in (the console's session) or send a valid API token"
    if isinstance(exc, HttpError):
        return exc.message
    return str(exc.args[0]) if exc.args else exc.__class__.__name__


def _api_error(api: NinjaAPI, request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(api, request, exc.status, exc.message, code=exc.code, details=exc.details)


def _http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "csrf_failed" if "CSRF" in exc.message else None
    return error_response(api, request, exc.status_code, exc.message, code=code)


def _validation_error(api: NinjaAPI, request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [_plain_error(item) for item in exc.errors]
    return error_response(api, request, 422, "the request is not valid", details=details)


def _invalid_values(api: NinjaAPI, request: HttpRequest, exc: InvalidValuesError) -> HttpResponse:
    return error_response(
        api, request, 422, str(exc), code="invalid_values", details=dict(exc.errors)
    )


def _server_bug(api: NinjaAPI, request: HttpRequest, exc: pydantic.ValidationError) -> HttpResponse:
    """A response that breaks its own schema: let Django answer 500 and log it."""
    raise exc


def settings_error(exc: pydantic.ValidationError, where: str = "") -> ApiError:
    """A connector's settings model refused the values: 422 with each problem, no input echoed."""
    details = [_plain_error(dict(item)) for item in exc.errors()]
    for item in details:
        item["loc"] = [where, *item["loc"]] if where else item["loc"]
    message = "; ".join(f"{_where(item['loc'])}{item['msg']}" for item in details)
    return ApiError(422, message, code="invalid_settings", details=details)


def _plain_error(item: dict[str, Any]) -> dict[str, Any]:
    """{loc, msg, type} only: `ctx` and `input` may hold objects, or a password typed in."""
    return {
        "loc": [str(part) for part in item.get("loc", ())],
        "msg": str(item.get("msg", "")),
        "type": str(item.get("type", "")),
    }


def _where(loc: list[str]) -> str:
    return f"{'.'.join(loc)}: " if loc else ""
