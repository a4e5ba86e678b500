"""A connection's groups from organisation levels, `[connections.KEY.groups]` in its settings:
validated by the config loader; the wiring module turns them into the engine's GroupPolicy with
the target's naming (docs/groups.md). `ou`, `scope` and `sam_prefix` are for targets with
containers (Active Directory)."""

from __future__ import annotations

from typing import Any, Literal

import ldap.dn
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hrsync.app.config_errors import ConfigError
from hrsync.domain.profile import TargetProfile
from hrsync.engine.groups import DEFAULT_GRACE_DAYS

MAX_DAYS = 3650


class GroupSettings(BaseModel):
    """`[connections.KEY.groups]`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, strict=True)
    levels: list[str] = Field(default_factory=list)
    """The person's organisation levels to build groups from, top first: for Flex HRM the
    account distributions' names (organization_levels), e.g. ["Office", "Department", "Team"]."""
    ou: str = ""
    """Where the groups live: a DN inside the base DN, or one relative to it ("OU=Org")."""
    grace_days: int = Field(DEFAULT_GRACE_DAYS, ge=0, le=MAX_DAYS, strict=True)
    """How long a group with no one left in its unit is kept before it is deleted."""
    scope: Literal["global", "universal"] = "global"
    sam_prefix: str = Field("", pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]{0,7})?$")
    """Put before every new group's sAMAccountName, e.g. "org-"; up to 8 characters."""

    @field_validator("levels")
    @classmethod
    def _check_levels(cls, levels: list[str]) -> list[str]:
        names = [level.strip() for level in levels]
        if any(not name for name in names):
            raise ValueError("a level name is empty")
        if len({name.casefold() for name in names}) != len(names):
            raise ValueError("a level is named twice")
        return names

    @field_validator("ou")
    @classmethod
    def _check_ou(cls, value: str) -> str:
        if value.strip() and not ldap.dn.is_dn(value.strip()):
            raise ValueError(f"{value!r} is not a distinguished name")
        return value.strip()

    @model_validator(mode="after")
    def _check_enabled(self) -> GroupSettings:
        if self.enabled and not self.levels:
            raise ValueError("groups need levels when enabled")
        return self


def check_groups(where: str, raw: object, profile: TargetProfile) -> dict[str, Any]:
    """The `groups` table as it is stored; ConfigError naming the key when it is wrong. A
    target with containers needs the one groups live in (`ou`)."""
    table = raw if isinstance(raw, dict) else {}
    needs_ou = profile.capabilities.hierarchy
    if needs_ou and table.get("enabled") is True and not (table.get("levels") and table.get("ou")):
        raise ConfigError(f"{where}.groups: groups need levels and an ou when enabled")
    try:
        settings = GroupSettings.model_validate(raw if raw is not None else {})
    except ValidationError as error:
        raise ConfigError(_explain(f"{where}.groups", error)) from error
    if settings.enabled and needs_ou and not settings.ou:
        raise ConfigError(f"{where}.groups: groups need levels and an ou when enabled")
    if settings.enabled and not profile.capabilities.groups:
        raise ConfigError(f"{where}.groups: {profile.label} keeps no groups")
    return settings.model_dump()


def _explain(where: str, error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join([where, *(str(part) for part in item['loc'])])}: "
        f"{str(item['msg']).removeprefix('Value error, ')}"
        for item in error.errors()
    )
