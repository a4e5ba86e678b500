"""Channel secrets typed in the console (encrypted in `Channel.secret`), made readable to notify.

hrsync.app.notify reads a channel's secret only from the environment variable its settings name
(`password_env`, `secret_env`, `url_env`). Until it can read `Channel.secret` itself, a channel
whose secret was entered in the console names a reserved variable, `HRSYNC_CHANNEL_<pk>_SECRET`,
and `stored_channel_secrets()` puts the decrypted values there for the duration of a block the
console starts (a test notification, "Import now", "provision now"). Outside such a block the
variables are removed again, so no subprocess inherits them; runs started elsewhere (schedule,
CLI) see them only once notify reads `Channel.secret` (see the report on the console issue).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hrsync.app.models import Channel
from hrsync.app.secrets import SecretError, decrypt

SECRET_SETTING = {
    Channel.Kind.EMAIL: "password_env",
    Channel.Kind.WEBHOOK: "secret_env",
    Channel.Kind.TEAMS: "url_env",
    Channel.Kind.SLACK: "url_env",
}
"""Which setting names the environment variable holding each kind's secret."""


class _Published:
    """The variables set now, and how many blocks still need them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.names: set[str] = set()


_published = _Published()


def reserved_name(pk: int) -> str:
    """The environment variable a console-stored secret of channel `pk` is published under."""
    return f"HRSYNC_CHANNEL_{pk}_SECRET"


def is_stored_in_console(row: Channel) -> bool:
    """Whether the channel's secret is the encrypted one (not one the admin keeps elsewhere)."""
    setting = SECRET_SETTING.get(Channel.Kind(row.kind))
    return (
        bool(row.secret)
        and row.pk is not None
        and row.settings.get(setting or "") == (reserved_name(row.pk))
    )


@contextmanager
def stored_channel_secrets() -> Iterator[None]:
    """Inside the block, every console-stored channel secret is readable by hrsync.app.notify.

    Blocks may overlap (one per request thread): the variables go when the last one ends.
    """
    with _published.lock:
        _published.holders += 1
        _publish()
    try:
        yield
    finally:
        with _published.lock:
            _published.holders -= 1
            if _published.holders == 0:
                for name in _published.names:
                    os.environ.pop(name, None)
                _published.names.clear()


def _publish() -> None:
    for row in Channel.objects.exclude(secret=""):
        if not is_stored_in_console(row):
            continue
        try:
            value = decrypt(row.secret)
        except SecretError:
            continue  # the send then says the variable is not set; the key is the admin's fix
        name = reserved_name(row.pk)
        os.environ[name] = value
        _published.names.add(name)
