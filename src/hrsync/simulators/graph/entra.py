"""The simulator's Entra side: one app registration, the v2.0 token endpoint for client
credentials with Entra's AADSTS errors, and the bearer tokens it issued."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs

from hrsync.simulators.serving import Reply, json_reply


@dataclass(frozen=True, slots=True)
class App:
    """The app registration the simulator trusts: tenant (id or domain), client id and secret."""

    tenant: str = "contoso.onmicrosoft.com"
    client_id: str = "00000000-0000-0000-0000-000000000000"
    client_secret: str = field(default="secret", repr=False)
    organization: str = "Contoso Ltd"
    """The tenant's organisation name (`GET /organization`'s displayName)."""


class Entra:
    """Issues tokens living `token_lifetime` seconds and says whether a request carries one."""

    def __init__(self, app: App, token_lifetime: int) -> None:
        self.app = app
        self.token_lifetime = token_lifetime
        self.issued = 0
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def token(self, method: str, tenant: str, body: bytes) -> Reply:
        """Client credentials as Entra answers them, with its AADSTS errors."""
        if method != "POST":
            return _aad_error(
                405,
                "invalid_request",
                "AADSTS900561: The endpoint only accepts POST requests.",
                900561,
            )
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if tenant.casefold() != self.app.tenant.casefold():
            return _aad_error(
                400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.", 90002
            )
        if form.get("grant_type") != "client_credentials":
            return _aad_error(
                400,
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type.",
                70003,
            )
        if form.get("client_id") != self.app.client_id:
            return _aad_error(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not "
                f"found in the directory '{tenant}'.",
                700016,
            )
        given = (form.get("client_secret") or "").encode()
        if not hmac.compare_digest(given, self.app.client_secret.encode()):
            return _aad_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
                f"the request is the client secret value, not the client secret ID, for a secret "
                f"added to app '{self.app.client_id}'.",
                7000215,
            )
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
            self.issued += 1
        lifetime = self.token_lifetime
        return json_reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": token,
            },
        )

    def is_authorised(self, headers: Mapping[str, str]) -> bool:
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        with self._lock:
            expires = self._tokens.get(token.strip())
        return expires is not None and time.monotonic() < expires

    def expire_all(self) -> None:
        """Every token issued so far stops working (as after an hour)."""
        with self._lock:
            self._tokens.clear()


def _aad_error(status: int, error: str, description: str, code: int) -> Reply:
    """Entra's OAuth error body (RFC 6749 §5.2 with its AADSTS extras)."""
    return json_reply(
        status,
        {
            "error": error,
            "error_description": description,
            "error_codes": [code],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
    )
