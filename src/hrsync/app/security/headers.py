"""Response headers the console and the API need beyond Django's own: nothing a signed-in user
sees (HR data on nearly every page) is kept by a browser's or a proxy's cache."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

PUBLIC_PREFIXES = ("/static/",)
"""What may be cached: the console's own scripts and styles."""


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response but static files, unless a view set its own
    (a download that must not be stored sets the same)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(PUBLIC_PREFIXES) and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
