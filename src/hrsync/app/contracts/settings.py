"""`[integrations.X]` of type "oneflow": validated when loaded; clients built from the row."""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from hrsync.app.config_errors import ConfigError
from hrsync.app.connection_settings import wiring
from hrsync.app.models import Integration, Source
from hrsync.connectors.flexhrm.client import FlexHrmClient
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.oneflow.client import OneflowClient
from hrsync.connectors.oneflow.config import OneflowConfig

KINDS = frozenset({"oneflow"})
_PLACEHOLDER = "placeholder"


class OneflowSettings(BaseModel):
    """What the config file says; secrets only by the name of their environment variable."""

    model_config = ConfigDict(extra="forbid")

    type: str
    source: str
    url: str = "https://api.oneflow.com/v1"
    token_env: str = Field(min_length=1)
    user_email: str = "__CREATOR__"
    sign_key_env: str = Field(min_length=1)
    document_category: str = "Oneflow Documents"
    flex_credentials_env: str | None = None
    """The seed's Base64 `customer_number:username:password`, instead of the source's own."""

    def connector_values(self) -> dict[str, Any]:
        return {"url": self.url, "user_email": self.user_email,
                "document_category": self.document_category}  # fmt: skip


def load_integrations(entries: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Create or update each integration; (label, created|updated|unchanged)."""
    results = []
    for key, entry in entries.items():
        label = f"integrations.{key}"
        settings = _validated(label, entry)
        source = Source.objects.filter(key=settings.source).first()
        if source is None or source.kind != "flexhrm":
            raise ConfigError(f"{label}: source '{settings.source}' is not a Flex HRM source")
        values = settings.model_dump(exclude={"type", "source"}, exclude_none=True)
        row = Integration.objects.filter(key=key).first()
        if row is None:
            Integration.objects.create(key=key, kind=settings.type, source=source, settings=values)
            results.append((label, "created"))
        elif (row.kind, row.source_id, row.settings) != (settings.type, source.pk, values):
            row.kind, row.source, row.settings = settings.type, source, values
            row.save()
            results.append((label, "updated"))
        else:
            results.append((label, "unchanged"))
    return results


def _validated(label: str, entry: dict[str, Any]) -> OneflowSettings:
    if entry.get("type") not in KINDS:
        raise ConfigError(f"{label}: unknown type '{entry.get('type')}' (known: oneflow)")
    for secret in ("token", "sign_key", "password"):
        if secret in entry:
            raise ConfigError(f"{label}: put {secret} in the environment and name it: {secret}_env")
    try:
        settings = OneflowSettings.model_validate(entry)
        OneflowConfig.model_validate(
            settings.connector_values() | {"token": _PLACEHOLDER, "sign_key": _PLACEHOLDER}
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise ConfigError(f"{label}: {problems}") from error
    return settings


def _env(name: str, what: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise wiring.MissingSecretError(f"the environment variable {name} ({what}) is not set")
    return value


def oneflow_config(row: Integration) -> OneflowConfig:
    settings = row.settings
    return OneflowConfig.model_validate(
        {k: settings[k] for k in ("url", "user_email", "document_category") if k in settings}
        | {
            "token": _env(settings["token_env"], "token_env"),
            "sign_key": _env(settings["sign_key_env"], "sign_key_env"),
        }
    )


def sign_key(row: Integration) -> str:
    return _env(row.settings["sign_key_env"], "sign_key_env")


def flex_config(row: Integration) -> FlexHrmConfig:
    """The source's Flex HRM settings; `flex_credentials_env` (Base64 of
    customer_number:username:password, as the Oneflow guide asks for) overrides the user."""
    config = wiring.flex_config(row.source)
    name = row.settings.get("flex_credentials_env")
    if not name:
        return config
    try:
        text = base64.b64decode(_env(name, "flex_credentials_env"), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise wiring.MissingSecretError(f"{name} is not Base64 of text") from error
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise wiring.MissingSecretError(f"{name} must be Base64 of customer:username:password")
    instance, username, password = parts
    return config.model_copy(
        update={"instance": instance, "username": username, "password": SecretStr(password)}
    )


def clients(row: Integration) -> tuple[OneflowClient, FlexHrmClient]:
    return OneflowClient(oneflow_config(row)), FlexHrmClient(flex_config(row))
