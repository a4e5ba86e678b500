"""The six configuration steps of a connection and the values each step accepts.

Steps 1 to 4 are forms validated here; step 5 is a simulation and step 6 a schedule
(hrsync.app.connections.lifecycle). Target settings are validated by the connector's own config
model.
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.rules import rule_problems, with_rules
from hrsync.app.models import Connection, Source
from hrsync.app.security import secrets
from hrsync.domain.profile import TargetProfile
from hrsync.engine.safety import SafetyPolicy, Threshold

M = TypeVar("M", bound=BaseModel)
DEFAULT_THRESHOLD = Threshold()
SIMULATE, SCHEDULE = 5, 6
DONE = 7
"""`Connection.step` once all six steps are done (the connection was activated)."""


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    slug: str
    title: str


STEPS = (
    Step(1, "source", "Source"),
    Step(2, "target", "Target settings"),
    Step(3, "mapping", "Attribute mapping"),
    Step(4, "scope", "Scope and safety"),
    Step(SIMULATE, "simulate", "Simulate"),
    Step(SCHEDULE, "schedule", "Schedule and activate"),
)


class InvalidValuesError(ValueError):
    """Values that do not validate; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class SourceStep(BaseModel):
    """Step 1: which HR source feeds the connection, its name, and the zone its dates live in."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str = Field(min_length=1)
    name: str = Field("", max_length=200)
    kind: str = "active_directory"
    time_zone: str = "Europe/Stockholm"

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in wiring.TARGETS:
            raise ValueError(f"unknown target type (known: {', '.join(sorted(wiring.TARGETS))})")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value


class ThresholdStep(BaseModel):
    """Hold a run when more than `percent` % of the connection's accounts, and at least
    `count`, would be changed this way (hrsync.engine.safety.Threshold)."""

    model_config = ConfigDict(extra="forbid")

    percent: float = Field(DEFAULT_THRESHOLD.percent, ge=0, le=100)
    count: int = Field(DEFAULT_THRESHOLD.count, ge=0)

    def threshold(self) -> Threshold:
        return Threshold(self.percent, self.count)


class SafetyStep(BaseModel):
    """The safety gate's thresholds per guarded kind (hrsync.engine.safety.SafetyPolicy);
    `wipe` counts, per attribute, the accounts on which a value would be emptied;
    `retire_group` the groups hrsync would delete, out of those it keeps; `remove_members` the
    members it would take out of its groups, out of the linked accounts."""

    model_config = ConfigDict(extra="forbid")

    disable: ThresholdStep = Field(default_factory=ThresholdStep)
    delete: ThresholdStep = Field(default_factory=ThresholdStep)
    move: ThresholdStep = Field(default_factory=ThresholdStep)
    rename: ThresholdStep = Field(default_factory=ThresholdStep)
    wipe: ThresholdStep = Field(default_factory=ThresholdStep)
    retire_group: ThresholdStep = Field(default_factory=ThresholdStep)
    remove_members: ThresholdStep = Field(default_factory=ThresholdStep)

    def policy(self) -> SafetyPolicy:
        return SafetyPolicy(**{kind: step.threshold() for kind, step in self})


class ScopeStep(BaseModel):
    """Step 4: the safety thresholds and, optionally, the companies whose people are in scope."""

    model_config = ConfigDict(extra="forbid")

    safety: SafetyStep = Field(default_factory=SafetyStep)
    companies: list[str] = Field(default_factory=list)

    @field_validator("companies")
    @classmethod
    def _strip(cls, values: list[str]) -> list[str]:
        return sorted({value.strip() for value in values if value.strip()})


def validate_source_step(values: dict[str, Any]) -> SourceStep:
    return _validated(SourceStep, values)


def validate_scope_step(values: dict[str, Any]) -> ScopeStep:
    return _validated(ScopeStep, values)


def validate_target_step(
    kind: str, values: dict[str, Any], *, has_password: bool
) -> tuple[dict[str, Any], str]:
    """The target settings to store (no secret) and the password entered ("" to keep the stored
    one). `has_password`: a password is stored already or named by password_env (or the
    kind's own `<field>_env`, e.g. client_secret_env)."""
    entered = {k: v for k, v in values.items() if k != "password"}
    password = str(values.get("password") or "")
    secret_key = wiring.secret_key_of(kind, entered)
    if secret_key and not password and not has_password:
        raise InvalidValuesError({"password": "enter the secret hrsync signs in with"})
    model = wiring.target_model(kind)
    try:
        config = wiring.validate_settings(model, entered)
    except ValidationError as error:
        raise InvalidValuesError(explain(error)) from error
    # Every kind's secret field (AD's password, SCIM's token) stays out of the stored settings.
    secrets_out = {"password", "token", secret_key} - {""}
    return config.model_dump(mode="json", exclude=secrets_out, exclude_unset=True), password


def safety_of(settings: dict[str, Any]) -> SafetyPolicy:
    """The connection's safety gate: its stored thresholds over the defaults. A stored value
    that does not validate (written before a change of shape) counts as the default: the gate
    never loosens because of it."""
    stored = settings.get("safety") or {}
    valid: dict[str, ThresholdStep] = {}
    for kind in SafetyStep.model_fields:
        with suppress(ValidationError):
            valid[kind] = ThresholdStep.model_validate(stored.get(kind, {}))
    return SafetyStep.model_validate(valid).policy()


def explain(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors as {field: message}, for forms and the API."""
    errors: dict[str, str] = {}
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "values"
        errors.setdefault(field, str(item["msg"]).removeprefix("Value error, "))
    return errors


def _validated(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise InvalidValuesError(explain(error)) from error


def default_mapping(profile: TargetProfile, person_id_attribute: str) -> list[tuple[str, str]]:
    """The attribute mapping a connection's target kind uses by default, as (attribute, where
    its value comes from) rows for step 3: the names hrsync makes unique, the profile's default
    rules, the person id, the manager and the account's state."""
    rows = []
    if profile.naming_attribute:
        rows.append((profile.naming_attribute, "display name, numbered when taken"))
    rows += [(name, "made from the names, unique in the target") for name in profile.unique_names]
    rows += [(name, rule) for name, rule in profile.default_mapping.items()]
    rows.append((person_id_attribute, "person id in the HR source (the link)"))
    if profile.capabilities.manager:
        rows.append((profile.manager_attribute, "the manager's account"))
    rows.append(("enabled", "while employed on the day, in the connection's zone"))
    return rows


# --- saving a step ---------------------------------------------------------------------------


def _save_source(connection: Connection, values: dict[str, Any]) -> None:
    step = validate_source_step(values)
    if step.kind != connection.kind:
        raise InvalidValuesError({"kind": "the target type is chosen when the connection is made"})
    connection.source = source_named(step.source)
    connection.name, connection.time_zone = step.name, step.time_zone


def _save_target(connection: Connection, values: dict[str, Any]) -> None:
    settings, password = validate_target_step(
        connection.kind, values, has_password=has_password(connection)
    )
    # The leavers OU is a target setting, but step 3 edits it with the lifecycle.
    secret_envs = wiring.secret_env_settings(wiring.secret_key_of(connection.kind, settings))
    kept = {
        k: v
        for k, v in connection.settings.items()
        if k in wiring.APP_SETTINGS or k in secret_envs or k == "leavers_ou"
    }
    if password:
        # A password entered here replaces one named by password_env (or client_secret_env…).
        for setting in secret_envs:
            kept.pop(setting, None)
        connection.secret = secrets.encrypt(password)
    connection.settings = kept | settings


def _save_rules(connection: Connection, values: dict[str, Any]) -> None:
    """Step 3: the rules (hrsync.app.connection_settings.rules); those left out of `values` are
    kept."""
    settings = with_rules(connection.settings, values)
    problems = rule_problems(connection.kind, settings)
    if problems:
        raise InvalidValuesError(problems)
    connection.settings = settings


def _save_scope(connection: Connection, values: dict[str, Any]) -> None:
    step = validate_scope_step(values)
    settings = dict(connection.settings)
    # A form that leaves a kind out (the console's step 4 shows only the account kinds) keeps
    # its stored threshold instead of resetting it to the default.
    given, stored = values.get("safety") or {}, settings.get("safety") or {}
    dumped = step.safety.model_dump()
    kept = {kind: stored[kind] for kind in stored if kind in dumped and kind not in given}
    settings["safety"] = dumped | kept
    # Step 4 edits the companies; scope conditions from the config file are kept.
    scope = {k: v for k, v in settings.get("scope", {}).items() if k != "companies"}
    if step.companies:
        scope["companies"] = step.companies
    if scope:
        settings["scope"] = scope
    else:
        settings.pop("scope", None)
    connection.settings = settings


_STEP_SAVERS = {1: _save_source, 2: _save_target, 3: _save_rules, 4: _save_scope}


def apply_step(connection: Connection, number: int, values: dict[str, Any]) -> None:
    """Validate the values of step `number` (1 to 4) and set them on the connection, unsaved."""
    _STEP_SAVERS[number](connection, values)


def source_named(key: str) -> Source:
    source = Source.objects.filter(key=key).first()
    if source is None:
        raise InvalidValuesError({"source": f"there is no source {key!r}"})
    return source


def has_password(connection: Connection) -> bool:
    """A secret is stored, or a setting (password_env, client_secret_env…) names its variable."""
    return bool(connection.secret or _secret_env_name(connection))


def stored_password(connection: Connection) -> str:
    if connection.secret:
        return secrets.decrypt(connection.secret)
    name = _secret_env_name(connection)
    return os.environ.get(name, "") if name else ""


def _secret_env_name(connection: Connection) -> str:
    return wiring.connection_secret_env(connection)[1]
