"""The error every configuration loader raises: a message saying where and why."""


class ConfigError(Exception):
    """The configuration cannot be loaded; nothing of it was saved."""
