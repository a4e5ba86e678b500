"""Every console view declares the role it needs; anonymous users go to sign-in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from hrsync.app.security.roles import Role, has_role

View = TypeVar("View", bound=Callable[..., HttpResponse])


def role_required(role: Role) -> Callable[[View], View]:
    """Anonymous → redirect to sign-in; signed in without the role → 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied(f"this needs the {role.name.lower()} role")
            return view(request, *args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def actor(request: HttpRequest) -> str:
    """The name the audit log records for this request's user."""
    return request.user.get_username() if request.user.is_authenticated else "anonymous"
