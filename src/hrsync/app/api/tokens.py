"""Personal API tokens: create one (shown once), list and revoke your own; admins see everyone's."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from hrsync.app.api.auth import VIEWER, actor, signed_in
from hrsync.app.api.errors import ApiError, answers
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.models import ApiToken
from hrsync.app.security import audit
from hrsync.app.security.roles import Role, has_role, role_of
from hrsync.app.security.tokens import SHOWN_PREFIX, new_token, token_digest

router = Router(tags=["tokens"])


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100, description="What the token is for.")
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="Empty: the token lives until it is revoked."
    )


class TokenOut(Schema):
    id: int
    name: str
    user: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created: datetime
    last_used: datetime | None
    expires: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The token itself: shown in this answer only, never again.")


class TokenPage(Paged):
    items: list[TokenOut]


class TokenQuery(PageQuery):
    everyone: bool = Field(False, description="Admins: every user's tokens, not only yours.")


class MeOut(Schema):
    username: str
    role: str | None


@router.get("/me", response=answers(MeOut), **VIEWER, tags=["me"])
def me(request: HttpRequest) -> dict[str, Any]:
    """Who the API takes you for, and your role."""
    role = role_of(request.user)
    return {"username": actor(request), "role": role.name.lower() if role else None}


@router.get("/tokens", response=answers(TokenPage), **VIEWER)
def list_tokens(request: HttpRequest, query: Query[TokenQuery]) -> dict[str, Any]:
    """Your tokens, newest first (never the tokens themselves)."""
    rows = ApiToken.objects.select_related("user").order_by("-pk")
    if not (query.everyone and has_role(request.user, Role.ADMIN)):
        rows = rows.filter(user=signed_in(request))
    return page(rows, query, lambda items: [_token(row) for row in items])


@router.post("/tokens", response=answers(NewTokenOut, status=201), **VIEWER)
def create_token(
    request: HttpRequest, response: HttpResponse, body: TokenIn
) -> Status[dict[str, Any]]:
    """A new token for you, with your role. Copy it now: only its hash is kept."""
    token = new_token()
    expires = (
        timezone.now() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    )
    row = ApiToken.objects.create(
        user=signed_in(request),
        name=body.name,
        prefix=token[:SHOWN_PREFIX],
        digest=token_digest(token),
        expires=expires,
    )
    audit.record(actor(request), "token.created", "token", str(row.pk), after=_audited(row))
    response["Cache-Control"] = "no-store"  # the only copy of the token: keep it out of caches
    return Status(201, _token(row) | {"token": token})


@router.delete("/tokens/{token_id}", response=answers(None, status=204), **VIEWER)
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    """Revoke one of your tokens (admins: anyone's); it stops working at once."""
    row = ApiToken.objects.select_related("user").get(pk=token_id)
    if row.user != signed_in(request) and not has_role(request.user, Role.ADMIN):
        raise ApiError(404, "not found")  # another user's token: as if it did not exist
    before = _audited(row)
    row.delete()
    audit.record(actor(request), "token.revoked", "token", str(token_id), before=before)
    return Status(204, None)


def _token(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "user": row.user.get_username(),
        "prefix": row.prefix,
        "created": row.created,
        "last_used": row.last_used,
        "expires": row.expires,
    }


def _audited(row: ApiToken) -> dict[str, Any]:
    return {"name": row.name, "user": row.user.get_username(), "prefix": row.prefix}
