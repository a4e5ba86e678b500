"""API tokens: the one scheme the console and the API share.

A token is `hrs_` + 40 url-safe characters (240 random bits). Only its SHA-256 digest is stored
(a slow password hash would add nothing at that entropy), with its first characters in clear to
tell tokens apart; the token itself is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "hrs_"  # noqa: S105 (a public marker, not a secret)
RANDOM_BYTES = 30
"""30 random bytes are 40 url-safe characters."""
SHOWN_PREFIX = 8
"""How much of a token is kept in clear."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(RANDOM_BYTES)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
