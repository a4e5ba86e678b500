"""API tokens: the signed-in user's tokens, a new one shown exactly once, revoke.

A token is `hrs_` and 40 url-safe random characters; only its SHA-256 hex digest is stored
(`ApiToken.digest`), with its first 8 characters (`prefix`) to tell tokens apart. The REST API
authenticates a bearer token by the same digest.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from hrsync.app.console.access import actor, role_required
from hrsync.app.console.responses import render_page
from hrsync.app.models import ApiToken
from hrsync.app.security import audit
from hrsync.app.security.roles import Role
from hrsync.app.security.tokens import SHOWN_PREFIX, new_token, token_digest

MAX_DAYS = 3650


@role_required(Role.VIEWER)
def token_list(request: HttpRequest, *, problem: str = "", status: int = 200) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=_owner(request)).order_by("-pk")
    context = {"tokens": list(tokens), "problem": problem, "now": timezone.now()}
    return render_page(request, "hrsync/tokens/list.html", context, status=status)


@role_required(Role.VIEWER)  # every user manages their own tokens
def token_create(request: HttpRequest) -> HttpResponse:
    """Create a token and show it on this response only: it cannot be shown again."""
    name = request.POST.get("name", "").strip()
    days = request.POST.get("expires_in_days", "").strip()
    if not name or len(name) > 100:
        return token_list(
            request, problem="Give the token a name (at most 100 characters).", status=400
        )
    if days and not (days.isdigit() and 1 <= int(days) <= MAX_DAYS):
        return token_list(request, problem=f"Expiry: 1 to {MAX_DAYS} days, or empty.", status=400)
    token = new_token()
    row = ApiToken.objects.create(
        user=_owner(request),
        name=name,
        prefix=token[:SHOWN_PREFIX],
        digest=token_digest(token),
        expires=timezone.now() + timedelta(days=int(days)) if days else None,
    )
    after = {"name": row.name, "prefix": row.prefix, "expires": _iso(row)}
    audit.record(actor(request), "token.created", "token", str(row.pk), after=after)
    response = render_page(request, "hrsync/tokens/created.html", {"row": row, "token": token})
    response["Cache-Control"] = "no-store"  # the only copy of the token: keep it out of caches
    return response


@role_required(Role.VIEWER)  # only the user's own tokens can be revoked here
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(ApiToken, pk=pk, user=_owner(request))
    before = {"name": row.name, "prefix": row.prefix}
    row.delete()
    audit.record(actor(request), "token.revoked", "token", str(pk), before=before)
    messages.success(request, f"Token {before['name']} ({before['prefix']}…) revoked.")
    return redirect("/tokens/")


def _owner(request: HttpRequest) -> User:
    """The signed-in user (role_required has let only signed-in users through)."""
    if not isinstance(request.user, User):
        raise PermissionDenied("sign in first")
    return request.user


def _iso(row: ApiToken) -> str | None:
    return row.expires.isoformat() if row.expires else None
