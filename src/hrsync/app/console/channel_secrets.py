"""Channel secrets typed in the console or the API (encrypted in `Channel.secret`).

Such a channel's settings name a reserved variable, `HRSYNC_CHANNEL_<pk>_SECRET`, in place of an
environment variable of the admin's; hrsync.app.notify resolves that name by decrypting
`Channel.secret` itself, in whatever process sends (console, CLI, schedule).
"""

from __future__ import annotations

from hrsync.app.models import Channel

SECRET_SETTING = {
    Channel.Kind.EMAIL: "password_env",
    Channel.Kind.WEBHOOK: "secret_env",
    Channel.Kind.TEAMS: "url_env",
    Channel.Kind.SLACK: "url_env",
}
"""Which setting names the environment variable holding each kind's secret."""


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
