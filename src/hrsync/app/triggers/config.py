"""`[triggers.NAME]` tables of the config file: checked as a whole, then saved idempotently."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hrsync.app.config_errors import ConfigError
from hrsync.app.models import Channel, Connection, Trigger
from hrsync.engine.conditions import as_condition_value
from hrsync.engine.rules import Rule, rule_from_json, validate_rule

FALLBACK_TEMPLATES = frozenset(
    {"import_held", "joiner_provisioned", "provisioning_failed", "run_held"}
)
"""The default templates' names, used only while `hrsync.app.notify` cannot be imported."""
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ConditionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    op: str
    value: Any = None

    @field_validator("value")
    @classmethod
    def _is_comparable(cls, value: Any) -> Any:
        as_condition_value(value)  # one clear message instead of one per kind of value
        return value


class ActionEntry(BaseModel):
    """`do` names the action; every other key is one of its parameters."""

    model_config = ConfigDict(extra="allow")

    do: str


class TriggerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str
    match: str = "all"
    conditions: list[ConditionEntry] = Field(default_factory=list)
    actions: list[ActionEntry] = Field(default_factory=list)
    order: int = Field(default=100, ge=0)
    enabled: bool = True
    description: str = Field(default="", max_length=300)

    def stored(self) -> dict[str, Any]:
        """The Trigger row's values: conditions `{field, op, value?}`, actions `{do, **params}`."""
        return {
            "event": self.event,
            "match": self.match,
            "conditions": [c.model_dump(exclude_none=True) for c in self.conditions],
            "actions": [{"do": a.do, **(a.model_extra or {})} for a in self.actions],
            "order": self.order,
            "is_enabled": self.enabled,
            "description": self.description,
        }


def load_triggers(entries: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Check every trigger, then create or update its row; the result per label says which.

    Runs inside `hrsync config load`'s transaction, after sources, connections and channels, so
    an action naming one defined in the same file is accepted. Raises ConfigError naming every
    problem of every trigger; nothing is saved then. Triggers absent from the file are kept.
    """
    if not entries:
        return []
    known = _known_names()
    stored: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for name, raw in entries.items():
        values, found = _check(name, raw, known)
        stored[name] = values
        if found:
            problems.append(f"triggers.{name}: {'; '.join(found)}")
    if problems:
        raise ConfigError("\n".join(problems))
    return [(f"triggers.{name}", _save(name, values)) for name, values in stored.items()]


def _check(
    name: str, raw: dict[str, Any], known: dict[str, set[str]]
) -> tuple[dict[str, Any], list[str]]:
    """The row's values, and every problem with them."""
    if not _NAME.fullmatch(name):
        return {}, ["a trigger's name is letters, digits, '-' and '_', at most 64 characters"]
    try:
        values = TriggerEntry.model_validate(raw).stored()
        rule = _rule(name, values)
    except ValidationError as error:
        return {}, _explain(error)
    return values, validate_rule(rule, **known)


def _rule(name: str, values: dict[str, Any]) -> Rule:
    return rule_from_json(
        name, values["event"], values["match"], values["conditions"], values["actions"]
    )


def _known_names() -> dict[str, set[str]]:
    return {
        "connections": set(Connection.objects.values_list("key", flat=True)),
        "channels": set(Channel.objects.values_list("name", flat=True)),
        "templates": _template_names(),
    }


def _template_names() -> set[str]:
    try:
        # Imported here: the notification package imports the models, and may not exist yet
        # in a partial installation; its default template names are known regardless.
        from hrsync.app.notify import DEFAULT_TEMPLATES  # noqa: PLC0415
    except ImportError:
        return set(FALLBACK_TEMPLATES)
    return set(DEFAULT_TEMPLATES)


def _save(name: str, values: dict[str, Any]) -> str:
    row = Trigger.objects.filter(name=name).first()
    if row is None:
        Trigger.objects.create(name=name, **values)
        return "created"
    changed = [key for key, value in values.items() if getattr(row, key) != value]
    if not changed:
        return "unchanged"
    for key in changed:
        setattr(row, key, values[key])
    row.save()
    return "updated"


def _explain(error: ValidationError) -> list[str]:
    """Pydantic's errors with positions as people count: "condition 2: op: Field required"."""
    return [
        f"{_where(item['loc'])}{item['msg'].removeprefix('Value error, ')}"
        for item in error.errors()
    ]


def _where(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for position, part in enumerate(loc):
        if (
            isinstance(part, int)
            and position > 0
            and loc[position - 1] in ("conditions", "actions")
        ):
            parts[-1] = f"{str(loc[position - 1])[:-1]} {part + 1}"
        elif not isinstance(part, int):
            parts.append(str(part))
    return f"{': '.join(parts)}: " if parts else ""
