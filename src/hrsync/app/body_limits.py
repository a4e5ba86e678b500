"""Request bodies larger than hrsync accepts: a JSON 413, after authentication.

Django refuses an oversized body only when a view reads it, with its HTML 400 page, and to
anonymous callers too (telling them what size gets through). This middleware looks at the
declared length first: an anonymous caller gets the 401 any unauthenticated request gets, a
signed-in one a 413 naming the limit. File uploads (multipart) may be larger than other bodies:
their files stream to disk (FILE_UPLOAD_MAX_MEMORY_SIZE), so a CSV of 100,000 rows fits.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from hrsync.app.api.auth import token_user

MB = 1024 * 1024


def body_limit(content_type: str) -> int:
    """The largest body accepted: uploads (multipart) have their own, larger limit."""
    if content_type.lower().startswith("multipart/form-data"):
        return int(settings.HRSYNC_MAX_UPLOAD_BYTES)
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # unparseable: Django's own reading of the body refuses it


def is_authenticated(request: HttpRequest) -> bool:
    """A session user (AuthenticationMiddleware ran before) or a live API token."""
    if request.user.is_authenticated:
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token_user(token.strip()) is not None


def refuse(request: HttpRequest, limit: int) -> JsonResponse:
    """401 for an anonymous caller, else 413 naming the limit."""
    if not is_authenticated(request):
        return JsonResponse({"detail": "Unauthorized"}, status=401)
    detail = f"the request body is larger than the {limit // MB} MB hrsync accepts"
    return JsonResponse({"detail": detail}, status=413)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: Django's own refusal of a body too large (the form fields of an upload over
    DATA_UPLOAD_MAX_MEMORY_SIZE, or a body without a declared length) answered as the
    middleware answers; any other bad request as Django does."""
    if isinstance(exception, RequestDataTooBig):
        return refuse(request, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    return defaults.bad_request(request, exception)


class BodyLimitMiddleware:
    """401 for an anonymous oversized request, 413 for a signed-in one, before any view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.META.get("CONTENT_TYPE", ""))
        if declared_length(request) <= limit:
            return self.get_response(request)
        return refuse(request, limit)
