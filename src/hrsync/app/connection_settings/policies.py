"""A connection's policies kept in its settings JSON: the lifecycle by effective dates
(`lifecycle`), the scope (`scope`) and the attribute mapping overrides (`mapping`). Validated by
the config loader, turned into the engine's policies for a run."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hrsync.app.config_errors import ConfigError
from hrsync.app.connection_settings.groups import check_groups
from hrsync.app.triggers.config import ConditionEntry
from hrsync.connectors.active_directory.rules import parse_placement
from hrsync.domain.profile import TargetProfile
from hrsync.engine.conditions import condition_from_json
from hrsync.engine.lifecycle_dates import DEFAULT_PREHIRE_DAYS, LifecyclePolicy
from hrsync.engine.scope import OutOfScope, ScopePolicy, scope_problems
from hrsync.mapping.rules import MappingRuleError, Rule, RuleNames, parse_rule, parse_rules

MAX_DAYS = 3650


class LifecycleSettings(BaseModel):
    """`[connections.KEY.lifecycle]`."""

    model_config = ConfigDict(extra="forbid")

    prehire_days: int = Field(DEFAULT_PREHIRE_DAYS, ge=0, le=MAX_DAYS, strict=True)
    """A pre-hire's disabled account is made this many days before the start date."""
    delete_after_days: int | None = Field(None, ge=0, le=MAX_DAYS, strict=True)
    """A leaver's account is deleted this many days after the last day; absent: never."""


class ScopeSettings(BaseModel):
    """`[connections.KEY.scope]`: conditions use the trigger conditions' vocabulary."""

    model_config = ConfigDict(extra="forbid")

    match: str = "all"
    conditions: list[ConditionEntry] = Field(default_factory=list)
    when_out_of_scope: OutOfScope = OutOfScope.DISABLE
    companies: list[str] = Field(default_factory=list)
    """Step 4's list: the person's company name or id is one of these."""

    def policy(self) -> ScopePolicy:
        return ScopePolicy(
            tuple(condition_from_json(c.model_dump()) for c in self.conditions),
            self.match,
            tuple(company.strip() for company in self.companies if company.strip()),
            self.when_out_of_scope,
        )


def check_scope(where: str, raw: object) -> None:
    """ConfigError naming every problem of the `scope` table, when it has any."""
    try:
        settings = ScopeSettings.model_validate(raw if raw is not None else {})
    except ValidationError as error:
        raise ConfigError(_explain(f"{where}.scope", error)) from error
    policy = settings.policy()
    problems = scope_problems(policy.match, policy.conditions)
    if problems:
        raise ConfigError("; ".join(f"{where}.scope: {problem}" for problem in problems))


def scope_of(settings: dict[str, Any]) -> ScopePolicy:
    """The engine's scope policy from a connection's stored settings."""
    return ScopeSettings.model_validate(settings.get("scope") or {}).policy()


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


def rule_names(profile: TargetProfile) -> RuleNames:
    """Which attribute names the profile's rules may set."""
    return RuleNames(
        re.compile(profile.mappable), profile.mappable_described, profile.set_by_hrsync
    )


def check_mapping(
    where: str, raw: object, person_id_attribute: str, profile: TargetProfile
) -> None:
    """ConfigError when the `mapping` table ({attribute = "expression"}) cannot be used; the
    message points at the attribute, and at the line and column within its expression."""
    if raw is None:
        return
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ConfigError(f'{where}.mapping: write one attribute = "expression" per line')
    try:
        parse_rules(raw, person_id_attribute, rule_names(profile))
    except MappingRuleError as error:
        raise ConfigError(f"{where}.mapping.{error}") from error


def check_placement(where: str, raw: object, profile: TargetProfile) -> None:
    """ConfigError when the `placement` expression (a path of OU names) cannot be parsed, or
    the target has no containers to place accounts in."""
    if raw is None:
        return
    if not profile.capabilities.hierarchy:
        raise ConfigError(f"{where}.placement: {profile.label} keeps no accounts in containers")
    if not isinstance(raw, str):
        raise ConfigError(f'{where}.placement: write placement = "expression"')
    try:
        parse_placement(raw)
    except MappingRuleError as error:
        raise ConfigError(f"{where}.{error}") from error


NAMING_KEYS = ("sam", "upn")
ON_RENAME = "upn_on_rename"
ON_RENAME_CHOICES = ("keep", "follow")


def check_naming(where: str, raw: object, profile: TargetProfile) -> None:
    """ConfigError when the `naming` table (sam = "…", upn = "…", upn_on_rename = "keep" or
    "follow") cannot be used, or the target names its accounts otherwise (its mapping gives
    them: SCIM's userName)."""
    if raw is None:
        return
    if not profile.naming_rules:
        raise ConfigError(
            f"{where}.naming: {profile.label} takes its names from the mapping, not a naming table"
        )
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ConfigError(f'{where}.naming: write sam = "expression" and upn = "expression"')
    unknown = sorted(set(raw) - {*NAMING_KEYS, ON_RENAME})
    if unknown:
        raise ConfigError(
            f"{where}.naming: unknown {', '.join(unknown)} (sam, upn and {ON_RENAME} are known)"
        )
    for key, text in raw.items():
        if key == ON_RENAME:
            if text not in ON_RENAME_CHOICES:
                raise ConfigError(f'{where}.naming.{ON_RENAME}: "keep" or "follow", not {text!r}')
            continue
        try:
            parse_rule(key, text)
        except MappingRuleError as error:
            raise ConfigError(f"{where}.naming.{error}") from error


def check_rules(where: str, settings: dict[str, Any], profile: TargetProfile) -> None:
    """The checks `hrsync config load` makes of a connection's rules (ConfigError for the first
    table that cannot be used); the console and the API check them table by table with the same
    functions (hrsync.app.connection_settings.rules)."""
    check_lifecycle(where, settings.get("lifecycle"))
    check_scope(where, settings.get("scope"))
    check_mapping(where, settings.get("mapping"), person_id_attribute(settings, profile), profile)
    check_placement(where, settings.get("placement"), profile)
    check_naming(where, settings.get("naming"), profile)
    check_groups(where, settings.get("groups"), profile)


def person_id_attribute(settings: dict[str, Any], profile: TargetProfile) -> str:
    """Where the connection's target keeps the person id (the one attribute no rule may set)."""
    return str(settings.get("person_id_attribute") or profile.owner_attribute)


def naming_rule(settings: dict[str, Any], key: str) -> Rule | None:
    """The connection's own rule for a name (`naming.sam`, `naming.upn`), where it has one."""
    text = (settings.get("naming") or {}).get(key)
    return parse_rule(key, text) if text else None


def mapping_of(
    settings: dict[str, Any], person_id_attribute: str, profile: TargetProfile
) -> tuple[Rule, ...]:
    """The connection's parsed overrides (checked when they were stored)."""
    return parse_rules(settings.get("mapping") or {}, person_id_attribute, rule_names(profile))


def _explain(where: str, error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join([where, *(str(part) for part in item['loc'])])}: "
        f"{str(item['msg']).removeprefix('Value error, ')}"
        for item in error.errors()
    )
