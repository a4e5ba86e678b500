"""What console pages share: rendering with the user's role, htmx fragments, method routing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import render

from hrsync.app.security.roles import Role, role_of

ViewFunction = Callable[..., HttpResponse]


def render_page(
    request: HttpRequest,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """Render with `can_operate` and `can_admin`, so templates offer only what the user may do."""
    role = role_of(request.user)
    values = {
        "can_operate": role is not None and role >= Role.OPERATOR,
        "can_admin": role is not None and role >= Role.ADMIN,
        **(context or {}),
    }
    return render(request, template, values, status=status)


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a whole page)."""
    return request.headers.get("HX-Request") == "true"


def by_method(*, get: ViewFunction, post: ViewFunction | None = None) -> ViewFunction:
    """One URL, a view per method: reading and changing may need different roles."""

    def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            return get(request, *args, **kwargs)
        if request.method == "POST" and post is not None:
            return post(request, *args, **kwargs)
        return HttpResponseNotAllowed(["GET", "POST"] if post else ["GET"])

    return dispatch


def query_with(query: QueryDict, **changes: str | None) -> str:
    """The query string with some parameters replaced (None drops one): for "more" links."""
    copy = query.copy()
    for key, value in changes.items():
        if value is None:
            copy.pop(key, None)
        else:
            copy[key] = value
    return copy.urlencode()
