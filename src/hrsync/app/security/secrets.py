"""Secrets at rest: MultiFernet with keys from HRSYNC_FERNET_KEYS or the data directory.

The first key encrypts; every key decrypts, so `hrsync keys rotate` can add a new first key and
re-encrypt everything without a moment in which a stored secret cannot be read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from hrsync.app.security.permissions import create_private_file

KEY_FILE = "fernet.keys"


class SecretError(Exception):
    """A stored secret cannot be decrypted with the keys at hand."""


def key_file() -> Path:
    return Path(settings.HOME) / KEY_FILE


def load_keys() -> list[bytes]:
    """Keys from the environment (comma-separated), else the data directory, created on first
    use with a warning to back it up."""
    if configured := os.environ.get("HRSYNC_FERNET_KEYS"):
        return [key.strip().encode() for key in configured.split(",") if key.strip()]
    path = key_file()
    if not path.exists():
        create_private_file(path)
        path.write_text(Fernet.generate_key().decode() + "\n")
        print(
            f"hrsync: created the secret key {path}; back it up: without it, stored passwords "
            "cannot be read.",
            file=sys.stderr,
        )
    return [line.encode() for line in path.read_text().split() if line]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in load_keys()])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretError(
            "a stored secret cannot be decrypted: is the right key in place?"
        ) from error


def rotate() -> int:
    """Put a new key first in the key file and re-encrypt every stored secret with it."""
    from hrsync.app.models import Channel, Connection, Source  # noqa: PLC0415 (apps loaded)

    if os.environ.get("HRSYNC_FERNET_KEYS"):
        raise SecretError("the keys come from HRSYNC_FERNET_KEYS: rotate them there")
    path = key_file()
    keys = load_keys()
    path.write_text("\n".join([Fernet.generate_key().decode(), *(k.decode() for k in keys)]) + "\n")
    fernet = _fernet()
    count = 0
    for model in (Source, Connection, Channel):
        for row in model.objects.exclude(secret=""):
            row.secret = fernet.rotate(row.secret.encode()).decode()
            row.save(update_fields=["secret"])
            count += 1
    return count
