"""A connection's rules (step 3): attribute overrides, login names, OU placement, groups,
lifecycle with the leavers OU, and the scope's conditions, as the console and the API edit them.

They are stored in `Connection.settings` exactly as `hrsync config load` stores the same tables,
and checked by the loader's own functions (connection_policies.check_rules and what it calls),
here one table (one attribute, one login name) at a time so that each problem names its field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from hrsync.app.config_errors import ConfigError
from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.groups import check_groups
from hrsync.app.connection_settings.policies import (
    check_lifecycle,
    check_mapping,
    check_naming,
    check_placement,
    check_scope,
    person_id_attribute,
)

RULE_KEYS = ("mapping", "naming", "placement", "groups", "lifecycle", "leavers_ou", "scope")
"""The settings step 3 edits; `leavers_ou` is a target setting, checked by the target's model."""
STEP_4_SCOPE = ("companies",)
"""Scope keys step 4 edits: kept when step 3 replaces the scope's conditions."""
WHERE = "rules"
"""The prefix the checks put before each problem; taken off again, the field says where."""

Problems = dict[str, str]
"""{what it concerns: message}: "mapping.mail", "naming.sam", "placement", "groups.levels",
"lifecycle.prehire_days", "leavers_ou", "scope"."""


def with_rules(settings: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """`settings` with the rules in `values` in their place. A rule `values` leaves out keeps
    its stored value; one that is empty (None, "", {}) is removed, as if the config file did
    not name it. A new scope keeps the companies step 4 chose unless it names them itself."""
    result = dict(settings)
    for key in RULE_KEYS:
        if key not in values:
            continue
        value = values[key]
        if key == "scope":
            stored = result.get("scope") or {}
            value = {k: v for k, v in stored.items() if k in STEP_4_SCOPE} | dict(value or {})
        if value in (None, "", {}):
            result.pop(key, None)
        else:
            result[key] = value
    return result


def rule_problems(kind: str, settings: Mapping[str, Any]) -> Problems:
    """Every problem of the rules in `settings`, keyed by the field it concerns; empty when
    `hrsync config load` would accept them."""
    problems: Problems = {}
    profile = wiring.profile_of(kind, dict(settings))
    person_id = person_id_attribute(dict(settings), profile)
    for attribute, text in (settings.get("mapping") or {}).items():
        mapping = {attribute: text}
        _check(problems, f"mapping.{attribute}", check_mapping, mapping, person_id, profile)
    for name, text in (settings.get("naming") or {}).items():
        _check(problems, f"naming.{name}", check_naming, {name: text}, profile)
    _check(problems, "placement", check_placement, settings.get("placement"), profile)
    _check(problems, "groups", check_groups, settings.get("groups"), profile)
    _check(problems, "lifecycle", check_lifecycle, settings.get("lifecycle"))
    _check(problems, "scope", check_scope, settings.get("scope"))
    return problems | _target_problems(kind, settings)


def _check(
    problems: Problems, key: str, check: Callable[..., object], raw: object, *args: object
) -> None:
    """Run one of the loader's checks on one table; its problems go under `key`, or under
    `key.<field>` when the table's model named the field."""
    try:
        check(WHERE, raw, *args)
    except ConfigError as error:
        cause = error.__cause__
        if isinstance(cause, ValidationError) and key in ("groups", "lifecycle"):
            problems.update(_explain(cause, key))
        elif key == "groups":
            problems["groups.enabled"] = str(error).replace(f"{WHERE}.groups: ", "")
        else:
            problems[key] = str(error).replace(f"{WHERE}.{key}: ", "").replace(f"{WHERE}.", "")


def _target_problems(kind: str, settings: Mapping[str, Any]) -> Problems:
    """The leavers OU is the target's setting: its own model checks it, as the loader does."""
    try:
        wiring.validate_settings(wiring.target_model(kind), dict(settings))
    except ValidationError as error:
        return _explain(error)
    return {}


def _explain(error: ValidationError, table: str = "") -> Problems:
    """A model's problems by field ("groups.levels"); one without a field under `table`."""
    problems: Problems = {}
    for item in error.errors():
        parts = [table, *(str(part) for part in item["loc"][:1])]
        field = ".".join(part for part in parts if part) or "settings"
        problems.setdefault(field, str(item["msg"]).removeprefix("Value error, "))
    return problems
