"""Notifications: channels (e-mail, signed webhook, Teams, Slack), templates and the delivery log.

send_notification(channel, template, context, to=None) -> Delivery   never raises on delivery
validate_channel(name, template=None)                                 ValueError if unknown
load_channels(entries) -> [("channels.NAME", "created"|"updated"|"unchanged")]
reset_channel(name), channel_status()                                 health and listing
DEFAULT_TEMPLATES                                                     name -> MessageTemplate
"""

from hrsync.app.notify.config import load_channels
from hrsync.app.notify.send import (
    SUSPEND_AFTER,
    channel_status,
    reset_channel,
    send_notification,
    validate_channel,
)
from hrsync.app.notify.templates import DEFAULT_TEMPLATES, MessageTemplate

__all__ = [
    "DEFAULT_TEMPLATES",
    "SUSPEND_AFTER",
    "MessageTemplate",
    "channel_status",
    "load_channels",
    "reset_channel",
    "send_notification",
    "validate_channel",
]
