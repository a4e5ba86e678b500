"""`hrsync config load FILE.toml`: create or update sources and connections, idempotently."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hrsync.app.config_errors import ConfigError
from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.policies import check_rules
from hrsync.app.connection_settings.steps import SafetyStep, explain
from hrsync.app.contracts.settings import load_integrations
from hrsync.app.imports.source_import import ShrinkGuardSettings
from hrsync.app.jobs.schedules import OnChange, ScheduleError, parse_schedule
from hrsync.app.keys import KEY_RULE, is_key
from hrsync.app.models import Connection, Source
from hrsync.app.notify.config import load_channels
from hrsync.app.sources.manual import MANUAL_KEY, RESERVED
from hrsync.app.triggers.config import load_triggers


class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str

    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SourceEntry(_Entry):
    schedule: str | None = None
    """Import schedule: cron ("*/2 * * * *") or "every 15m from 2026-01-01T06:00"."""


class ConnectionEntry(_Entry):
    source: str
    state: Connection.State | None = None
    time_zone: str = "Europe/Stockholm"
    schedule: str | None = None
    """Run schedule: cron, "every … from …", or "on-change"."""


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: dict[str, SourceEntry] = Field(default_factory=dict)
    connections: dict[str, ConnectionEntry] = Field(default_factory=dict)
    integrations: dict[str, dict[str, Any]] = Field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = Field(default_factory=dict)
    triggers: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keys(self) -> ConfigFile:
        """The same rule for keys as the console and the API (hrsync.app.keys)."""
        for table in ("sources", "connections", "integrations", "channels", "triggers"):
            for key in getattr(self, table):
                if not is_key(key):
                    raise ValueError(f"[{table}.{key!r}]: a key is {KEY_RULE}")
        return self


@dataclass
class LoadSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def load_config(path: Path) -> LoadSummary:
    """Validate the whole file first, then write it in one transaction."""
    parsed = _parse(path)
    summary = LoadSummary()
    with transaction.atomic():
        for key, source_entry in parsed.sources.items():
            if key == MANUAL_KEY:
                raise ConfigError(f"sources.{key}: {RESERVED}")
            _check(f"sources.{key}", source_entry.type, source_entry.settings(), wiring.SOURCES)
            row, created = Source.objects.get_or_create(key=key, defaults={"kind": ""})
            source_values: dict[str, Any] = {
                "kind": source_entry.type,
                "settings": source_entry.settings(),
            }
            if source_entry.schedule is not None:
                _check_schedule(f"sources.{key}", source_entry.schedule, allow_on_change=False)
                source_values["schedule"] = source_entry.schedule.strip()
            _save(row, f"sources.{key}", created, summary, **source_values)
        for key, entry in parsed.connections.items():
            _check(f"connections.{key}", entry.type, entry.settings(), wiring.TARGET_MODELS)
            check_rules(
                f"connections.{key}",
                entry.settings(),
                wiring.profile_of(entry.type, entry.settings()),
            )
            source = Source.objects.filter(key=entry.source).first()
            if source is None:
                raise ConfigError(f"connections.{key}: unknown source '{entry.source}'")
            conn, created = Connection.objects.get_or_create(
                key=key, defaults={"source": source, "kind": entry.type}
            )
            values: dict[str, Any] = {
                "source": source,
                "kind": entry.type,
                "settings": entry.settings(),
                "time_zone": entry.time_zone,
            }
            if entry.state is not None:
                values["state"] = entry.state
            if entry.schedule is not None:
                _check_schedule(f"connections.{key}", entry.schedule, allow_on_change=True)
                values["schedule"] = entry.schedule.strip()
            _save(conn, f"connections.{key}", created, summary, **values)
        _record(summary, load_integrations(parsed.integrations))
        # Channels before triggers: a trigger is checked against the channels it notifies.
        _record(summary, load_channels(parsed.channels))
        _record(summary, load_triggers(parsed.triggers))
    return summary


def _check_schedule(where: str, text: str, *, allow_on_change: bool) -> None:
    try:
        schedule = parse_schedule(text)
    except ScheduleError as error:
        raise ConfigError(f"{where}.schedule: {error}") from error
    if isinstance(schedule, OnChange) and not allow_on_change:
        raise ConfigError(f"{where}.schedule: on-change is for connections; a source needs a time")


def _record(summary: LoadSummary, results: list[tuple[str, str]]) -> None:
    buckets = {"created": summary.created, "updated": summary.updated}
    for label, outcome in results:
        buckets.get(outcome, summary.unchanged).append(label)


def _parse(path: Path) -> ConfigFile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config file") from None
    try:
        return ConfigFile.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_explain(error)) from error


def _check(where: str, kind: str, settings: dict[str, Any], known: dict[str, Any]) -> None:
    if kind not in known:
        raise ConfigError(f"{where}: unknown type '{kind}' (known: {', '.join(sorted(known))})")
    secret = wiring.secret_field(known[kind], settings) or "password"
    if secret in settings or "password" in settings:
        setting = wiring.secret_env_settings(secret)[0]
        raise ConfigError(f"{where}: put secrets in the environment and name it: {setting}")
    try:
        wiring.validate_settings(known[kind], settings)
    except ValidationError as error:
        raise ConfigError(f"{where}: {_explain(error)}") from error
    _check_table(f"{where}.safety", settings.get("safety", {}), SafetyStep)
    _check_table(f"{where}.shrink_guard", settings.get("shrink_guard", {}), ShrinkGuardSettings)


def _check_table(where: str, values: Any, model: type[BaseModel]) -> None:
    """A table hrsync itself reads ([connections.X.safety], [sources.X.shrink_guard])."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: must be a table")
    try:
        model.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{where}.{field}: {message}" for field, message in explain(error).items()
        )
        raise ConfigError(f"{problems} (the keys are {', '.join(model.model_fields)})") from error


def _save(
    row: Source | Connection, label: str, created: bool, summary: LoadSummary, **values: Any
) -> None:
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save()
    bucket = summary.created if created else summary.updated if changed else summary.unchanged
    bucket.append(label)


def _explain(error: ValidationError) -> str:
    def one(item: Any) -> str:
        message = str(item["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in item["loc"])
        return f"{where}: {message}" if where else message

    return "; ".join(one(item) for item in error.errors())
