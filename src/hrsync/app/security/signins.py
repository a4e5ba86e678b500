"""Sign-ins as the audit log and the log see them: each failure (user name and address, never
the password) and each lockout by django-axes; an admin lifting a lockout is audited where it
is done."""

from __future__ import annotations

from typing import Any

import structlog
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from hrsync.app.security import audit

log = structlog.get_logger(__name__)


def _address(request: HttpRequest | None) -> str:
    return str(
        getattr(request, "axes_ip_address", "")
        or (request.META.get("REMOTE_ADDR") if request else "")
        or ""
    )


@receiver(user_login_failed)
def signin_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    username = str(credentials.get("username") or "")
    address = _address(request)
    log.warning("sign-in failed", username=username, address=address)
    audit.record("anonymous", "auth.signin_failed", "user", username, after={"address": address})


def locked_out(
    sender: object,
    request: HttpRequest | None = None,
    username: str = "",
    ip_address: str = "",
    **_: Any,
) -> None:
    log.warning("sign-in locked", username=username, address=ip_address)
    audit.record("system", "auth.locked_out", "user", username, after={"address": ip_address})


def connect() -> None:
    """Listen to django-axes' lockouts (its signal module needs the app registry ready)."""
    from axes.signals import user_locked_out  # noqa: PLC0415

    user_locked_out.connect(locked_out, dispatch_uid="hrsync.locked_out")
