"""Build connectors from stored settings: the one place that knows every connector kind."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel

from hrsync.app.models import Connection, Source
from hrsync.app.security.secrets import decrypt
from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.source import FlexHrmSource

SOURCES: dict[str, type[BaseModel]] = {"flexhrm": FlexHrmConfig}
TARGETS: dict[str, type[BaseModel]] = {"active_directory": ActiveDirectoryConfig}

APP_SETTINGS = frozenset(
    {
        "password_env",
        "safety",
        "scope",
        "lifecycle",
        "shrink_guard",
        "mapping",
        "placement",
        "naming",
        "groups",
    }
)
"""Settings the app itself uses; the rest belong to the connector's config model."""
PLACEHOLDER = "placeholder"  # stands in for the secret while validating the rest of a config


class MissingSecretError(Exception):
    """The environment variable that should hold a secret is not set."""


def validate_settings(model: type[BaseModel], settings: dict[str, Any]) -> BaseModel:
    """Check stored settings against the connector's config model, without the secret."""
    return model.model_validate(_with_password(settings, PLACEHOLDER))


def build_source(source: Source) -> FlexHrmSource:
    secret = _secret(source.settings, source.secret)
    return FlexHrmSource(FlexHrmConfig.model_validate(_with_password(source.settings, secret)))


def target_config(connection: Connection) -> ActiveDirectoryConfig:
    secret = _secret(connection.settings, connection.secret)
    return ActiveDirectoryConfig.model_validate(_with_password(connection.settings, secret))


def build_target(connection: Connection) -> ActiveDirectoryTarget:
    mapped = (connection.settings.get("mapping") or {}).keys()
    return ActiveDirectoryTarget(target_config(connection), mapped_attributes=mapped)


def _with_password(settings: dict[str, Any], password: str) -> dict[str, Any]:
    values = {k: v for k, v in settings.items() if k not in APP_SETTINGS}
    return values | {"password": password}


def _secret(settings: dict[str, Any], stored: str = "") -> str:
    """The password: from the environment variable `password_env` names, else the one stored
    encrypted (entered in the console)."""
    name = settings.get("password_env")
    if not name and stored:
        return decrypt(stored)
    if not name:
        raise MissingSecretError("no password is set: enter one, or name it with password_env")
    value = os.environ.get(name)
    if value is None:
        raise MissingSecretError(f"the environment variable {name} (password_env) is not set")
    return value
