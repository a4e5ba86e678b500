"""Event triggers: load them from the config, fire them on events, record every firing."""

from hrsync.app.triggers.actions import Actions, DefaultActions
from hrsync.app.triggers.dispatch import Dispatcher

__all__ = ["Actions", "DefaultActions", "Dispatcher"]
