"""Who is calling: a personal API token (`Authorization: Bearer hrs_…`) or the console's session.

Each operation names the role it needs (`@router.get(..., **VIEWER)`), which also records it in
the OpenAPI document as `x-hrsync-role`. No credentials (or a token that
is unknown, revoked or expired) → 401; credentials without the role → 403. A session must carry
the CSRF token on unsafe methods (as the console's own forms do); a bearer token needs none, since
a browser never sends it by itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from hrsync.app.models import ApiToken
from hrsync.app.security.roles import Role, has_role
from hrsync.app.security.tokens import TOKEN_PREFIX, token_digest

LAST_USED_EVERY = timedelta(minutes=1)
"""`last_used` is written at most this often per token: not one write per request."""


def token_user(token: str) -> User | None:
    """The active user a live token belongs to; marks the token used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = ApiToken.objects.select_related("user").filter(digest=token_digest(token)).first()
    now = timezone.now()
    if row is None or (row.expires is not None and row.expires <= now) or not row.user.is_active:
        return None
    if row.last_used is None or now - row.last_used >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used=now)
    user = row.user
    return user if isinstance(user, User) else None


class _RoleCheck:
    needed: Role

    def admit(self, user: Any) -> Any:
        """The user when it has the role; raises 403 when it does not."""
        if not has_role(user, self.needed):
            raise AuthorizationError(message=f"this needs the {self.needed.name.lower()} role")
        return user


class TokenAuth(_RoleCheck, HttpBearer):
    """A personal API token, created with POST /api/tokens."""

    def __init__(self, needed: Role) -> None:
        super().__init__()
        self.needed = needed

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_user(token.strip())
        if user is None:
            return None
        request.user = user  # the services and the audit log ask the request who it is
        return self.admit(user)


class SessionAuth(_RoleCheck, APIKeyCookie):
    """The console's session cookie; unsafe methods must pass Django's CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, needed: Role) -> None:
        super().__init__(csrf=True)
        self.needed = needed

    def _get_key(self, request: HttpRequest) -> str | None:
        # ninja checks CSRF before it knows whether anyone is signed in; an anonymous request
        # must hear 401, so the check waits for `authenticate`.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if key is None or user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header")
        return self.admit(user)


ROLE_KEY = "x-hrsync-role"


def needs(role: Role, **openapi: Any) -> dict[str, Any]:
    """An operation's `auth` and `openapi_extra` (plus `openapi`): open to `role` and above."""
    return {
        "auth": [TokenAuth(role), SessionAuth(role)],
        "openapi_extra": {ROLE_KEY: role.name.lower(), **openapi},
    }


VIEWER = needs(Role.VIEWER)
OPERATOR = needs(Role.OPERATOR)
ADMIN = needs(Role.ADMIN)


def signed_in(request: HttpRequest) -> User:
    """The caller, once an operation's auth admitted them."""
    user = request.user
    if not isinstance(user, User):
        raise AuthenticationError
    return user


def actor(request: HttpRequest) -> str:
    """The name the audit log records for the caller."""
    return str(request.user.get_username())
