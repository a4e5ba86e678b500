"""Channel settings: one pydantic model per kind, validated when `[channels.NAME]` is loaded.

Secrets are never stored: the settings name the environment variables that hold them
(`password_env`, `secret_env`, `url_env`), read when a notification is sent.
"""

from __future__ import annotations

import os
import re
from email.utils import parseaddr
from typing import Annotated, Any, Literal, Self

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from hrsync.app.config_errors import ConfigError
from hrsync.app.models import Channel
from hrsync.app.notify.templates import RenderError, check_syntax
from hrsync.app.security.secrets import decrypt

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)]
"""The name of an environment variable holding a secret."""

NAME_PATTERN = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")

PLAIN_SECRETS = {"password": "password_env", "secret": "secret_env"}
"""Keys that would put a secret in the file, and the key to use instead."""

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class MissingSecretError(Exception):
    """The environment variable that should hold a channel's secret is not set."""


class _ChannelSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_prefix: str = Field("", max_length=60, description="Put before every subject.")
    timeout_seconds: float = Field(10, gt=0, le=120)


class EmailSettings(_ChannelSettings):
    """SMTP: STARTTLS (587), implicit TLS (465) or none (25); AUTH when a username is given."""

    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535, description="Default: by `security`.")
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = Field(None, min_length=1)
    password_env: EnvName | None = None
    from_address: str
    to: list[str] = Field(default_factory=list, description="Addresses or templates of one.")
    tls_verify: bool = True

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("username and password_env go together: give both or neither")
        if self.password_env and self.security == "none":
            raise ValueError("a password is only sent over TLS: use security = starttls or ssl")
        if not is_address(parseaddr(self.from_address)[1]):
            raise ValueError(f"from_address: '{self.from_address}' is not an e-mail address")
        for entry in self.to:
            _check_recipient(entry)
        return self


class WebhookSettings(_ChannelSettings):
    """A generic webhook: JSON signed per the Standard Webhooks scheme."""

    url: str
    secret_env: EnvName
    max_attempts: int = Field(3, ge=1, le=10)
    tls_verify: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_url(self.url, "url")
        return self


class ChatSettings(_ChannelSettings):
    """A Teams (Workflows) or Slack incoming webhook; its URL is a secret, so prefer `url_env`."""

    url_env: EnvName | None = None
    url: str | None = None
    max_attempts: int = Field(3, ge=1, le=10)
    tls_verify: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give the incoming-webhook URL as url_env (preferred) or url")
        if self.url is not None:
            check_url(self.url, "url")
        return self


ChannelSettings = EmailSettings | WebhookSettings | ChatSettings

MODELS: dict[str, type[ChannelSettings]] = {
    Channel.Kind.EMAIL: EmailSettings,
    Channel.Kind.WEBHOOK: WebhookSettings,
    Channel.Kind.TEAMS: ChatSettings,
    Channel.Kind.SLACK: ChatSettings,
}


def parse_settings(kind: str, settings: dict[str, Any]) -> ChannelSettings:
    """The stored settings of a channel as its model; raises pydantic's ValidationError."""
    return MODELS[kind].model_validate(settings)


def load_channels(entries: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Create or update one Channel per `[channels.NAME]` table; call inside a transaction.

    Returns `("channels.NAME", "created" | "updated" | "unchanged")` per entry. Channels not in
    the file are left alone (their delivery log stays). Changed settings give a suspended
    channel a fresh start: the admin has just fixed it.
    """
    checked = [(name, *validate_entry(name, entry)) for name, entry in entries.items()]
    return [(f"channels.{name}", _save(name, kind, stored)) for name, kind, stored in checked]


def validate_entry(name: str, entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The kind and the settings to store for one `[channels.NAME]`; raises ConfigError."""
    where = f"channels.{name}"
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"{where}: a channel name is 1-64 letters, digits, '-' or '_'")
    kind = entry.get("type")
    if kind is None:
        raise ConfigError(f"{where}: type is missing (one of {', '.join(sorted(MODELS))})")
    if kind not in MODELS:
        raise ConfigError(f"{where}: unknown type '{kind}' (known: {', '.join(sorted(MODELS))})")
    for plain, instead in PLAIN_SECRETS.items():
        if plain in entry:
            raise ConfigError(
                f"{where}: secrets are never stored in the file: put it in an environment "
                f"variable and name that with {instead} (not {plain})"
            )
    settings = {key: value for key, value in entry.items() if key != "type"}
    try:
        parse_settings(kind, settings)
    except ValidationError as error:
        raise ConfigError(f"{where}: {explain(error)}") from error
    return str(kind), settings


def _save(name: str, kind: str, settings: dict[str, Any]) -> str:
    row, created = Channel.objects.get_or_create(
        name=name, defaults={"kind": kind, "settings": settings}
    )
    if created:
        return "created"
    if row.kind == kind and row.settings == settings:
        return "unchanged"
    row.kind, row.settings = kind, settings
    row.consecutive_failures, row.suspended_reason = 0, ""
    row.save()
    return "updated"


STORED_SECRET = re.compile(r"HRSYNC_CHANNEL_(\d+)_SECRET")
"""The name a channel's settings give when its secret was entered in the console or API."""


def read_secret(setting: str, env_name: str) -> str:
    """The value of the environment variable a setting names; for the reserved name of a secret
    entered in the console, the channel's own encrypted `secret`. Else MissingSecretError."""
    value = os.environ.get(env_name) or _stored_secret(env_name)
    if not value:
        raise MissingSecretError(f"the environment variable {env_name} ({setting}) is not set")
    return value


def _stored_secret(env_name: str) -> str:
    match = STORED_SECRET.fullmatch(env_name)
    if match is None:
        return ""
    stored = Channel.objects.filter(pk=int(match.group(1))).values_list("secret", flat=True)
    return decrypt(stored.first() or "")


def check_url(url: str, label: str) -> None:
    """Raise ValueError unless `url` is an absolute http(s) URL; never quotes it (a secret)."""
    if not re.match(r"^https?://[^\s/?#]+", url):
        raise ValueError(f"{label} must be an http:// or https:// URL")


def is_address(address: str) -> bool:
    try:
        validate_email(address)
    except DjangoValidationError:
        return False
    return True


def _check_recipient(entry: str) -> None:
    if "{{" in entry or "{%" in entry:
        try:
            check_syntax(entry)
        except RenderError as error:
            raise ValueError(f"to: '{entry}': {error}") from error
    elif not is_address(entry):
        raise ValueError(f"to: '{entry}' is not an e-mail address (nor a template of one)")


def explain(error: ValidationError) -> str:
    """A pydantic error in an admin's words: `key: what is wrong`, one per problem."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = {
            "missing": "is required",
            "extra_forbidden": "is not a known setting",
            "string_pattern_mismatch": "must name an environment variable (letters, digits, _)",
        }.get(item["type"], item["msg"].removeprefix("Value error, "))
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
