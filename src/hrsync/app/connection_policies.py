"""A connection's policies kept in its settings JSON: the lifecycle by effective dates
(`lifecycle`). Validated by the config loader, turned into the engine's policy for a run."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hrsync.app.config_errors import ConfigError
from hrsync.engine.lifecycle_dates import DEFAULT_PREHIRE_DAYS, LifecyclePolicy

MAX_DAYS = 3650


class LifecycleSettings(BaseModel):
    """`[connections.KEY.lifecycle]`."""

    model_config = ConfigDict(extra="forbid")

    prehire_days: int = Field(DEFAULT_PREHIRE_DAYS, ge=0, le=MAX_DAYS, strict=True)
    """A pre-hire's disabled account is made this many days before the start date."""
    delete_after_days: int | None = Field(None, ge=0, le=MAX_DAYS, strict=True)
    """A leaver's account is deleted this many days after the last day; absent: never."""


def check_lifecycle(where: str, raw: object) -> dict[str, Any]:
    """The `lifecycle` table as it is stored; ConfigError naming the key when it is wrong."""
    try:
        settings = LifecycleSettings.model_validate(raw if raw is not None else {})
    except ValidationError as error:
        raise ConfigError(_explain(f"{where}.lifecycle", error)) from error
    return settings.model_dump(exclude_none=True)


def lifecycle_of(settings: dict[str, Any], leavers_ou: str | None) -> LifecyclePolicy:
    """The engine's lifecycle policy from a connection's stored settings."""
    stored = LifecycleSettings.model_validate(settings.get("lifecycle") or {})
    return LifecyclePolicy(stored.prehire_days, stored.delete_after_days, leavers_ou)


def _explain(where: str, error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join([where, *(str(part) for part in item['loc'])])}: "
        f"{str(item['msg']).removeprefix('Value error, ')}"
        for item in error.errors()
    )
