"""The channel form: e-mail (SMTP), signed webhook, Teams and Slack, checked by notify's models.

Secrets (the SMTP password, the webhook secret, the chat incoming-webhook URL) are write-only:
never filled in, an empty field keeps the stored one, a typed one is stored encrypted in
`Channel.secret` and reaches notify through hrsync.app.console.channel_secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from pydantic import ValidationError

from hrsync.app.console.channel_secrets import SECRET_SETTING, is_stored_in_console, reserved_name
from hrsync.app.models import Channel
from hrsync.app.notify.config import NAME_PATTERN, check_url, explain, parse_settings
from hrsync.app.security.secrets import encrypt

PENDING = "HRSYNC_CHANNEL_NEW_SECRET"
"""Stands in for a new channel's reserved variable until the row (and its pk) exists."""
SECRET_FIELDS = {
    "email": "smtp_password",
    "webhook": "webhook_secret",
    "teams": "chat_url",
    "slack": "chat_url",
}
SECRET_LABELS = {
    "smtp_password": "the SMTP password",
    "webhook_secret": "the webhook secret",
    "chat_url": "the incoming-webhook URL",
}
_WRITE_ONLY = {"autocomplete": "new-password"}


def _secret_field(label: str, help_text: str) -> forms.CharField:
    widget = forms.PasswordInput(render_value=False, attrs=_WRITE_ONLY)
    return forms.CharField(
        label=label, required=False, max_length=2000, strip=True, widget=widget, help_text=help_text
    )


class ChannelForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=64, help_text="Letters, digits, '-' and '_'; triggers name it."
    )
    kind = forms.ChoiceField(label="Type", choices=Channel.Kind.choices)
    subject_prefix = forms.CharField(label="Subject prefix", required=False, max_length=60)
    tls_verify = forms.BooleanField(label="Verify TLS certificates", required=False, initial=True)
    host = forms.CharField(label="SMTP host", required=False, max_length=255)
    port = forms.IntegerField(
        label="Port", required=False, min_value=1, max_value=65535, help_text="Empty: by security."
    )
    security = forms.ChoiceField(
        label="Security",
        choices=[("starttls", "STARTTLS (587)"), ("ssl", "TLS (465)"), ("none", "none (25)")],
        required=False,
    )
    username = forms.CharField(label="SMTP username", required=False, max_length=255)
    smtp_password = _secret_field("SMTP password", "Needed with a username.")
    from_address = forms.CharField(label="From address", required=False, max_length=320)
    to = forms.CharField(
        label="To",
        required=False,
        max_length=2000,
        help_text="Addresses or templates such as {{ manager.email }}, comma-separated.",
    )
    webhook_url = forms.CharField(label="Webhook URL", required=False, max_length=2000)
    webhook_secret = _secret_field(
        "Signing secret", "The Standard Webhooks secret (whsec_…) the receiver verifies."
    )
    chat_url = _secret_field(
        "Incoming-webhook URL", "The Teams or Slack incoming-webhook URL (it is a secret)."
    )
    max_attempts = forms.IntegerField(label="Attempts", min_value=1, max_value=10, initial=3)

    def __init__(self, *args: Any, channel: Channel | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        if channel is not None:
            del self.fields["name"]  # triggers refer to a channel by its name

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if not NAME_PATTERN.match(name):
            raise forms.ValidationError("1-64 letters, digits, '-' or '_'.")
        if Channel.objects.filter(name=name).exists():
            raise forms.ValidationError("A channel with this name exists already.")
        return name

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.errors:
            self.result = build_channel(self.cleaned_data, self.channel)
            for problem in self.result.problems:
                self.add_error(None, problem)
        return cleaned


@dataclass
class ChannelValues:
    """What to store: the settings (no secret in them), the encrypted secret, the problems."""

    settings: dict[str, Any]
    secret: str
    problems: list[str]


def build_channel(data: dict[str, Any], row: Channel | None) -> ChannelValues:
    kind = str(data["kind"])
    settings = _plain_settings(kind, data)
    secret, problems = _secret(kind, data, row, settings)
    if not problems:
        try:
            parse_settings(kind, settings)
        except ValidationError as error:
            problems += [part[:1].upper() + part[1:] for part in explain(error).split("; ")]
    return ChannelValues(settings, secret, problems)


def _plain_settings(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    common = {"subject_prefix": data.get("subject_prefix") or "", "tls_verify": data["tls_verify"]}
    if kind == Channel.Kind.EMAIL:
        email = {
            "host": data.get("host") or "",
            "port": data.get("port"),
            "security": data.get("security") or "starttls",
            "username": data.get("username") or None,
            "from_address": data.get("from_address") or "",
            "to": split_list(data.get("to") or ""),
        }
        return common | {key: value for key, value in email.items() if value is not None}
    attempts = {"max_attempts": data.get("max_attempts") or 3}
    if kind == Channel.Kind.WEBHOOK:
        return common | attempts | {"url": data.get("webhook_url") or ""}
    return common | attempts


def _secret(
    kind: str, data: dict[str, Any], row: Channel | None, settings: dict[str, Any]
) -> tuple[str, list[str]]:
    """The encrypted secret to store (and the env setting naming it), or why it is missing."""
    field, setting = SECRET_FIELDS[kind], SECRET_SETTING[Channel.Kind(kind)]
    typed = str(data.get(field) or "")
    if typed:
        if field == "chat_url":
            try:
                check_url(typed, "The incoming-webhook URL")
            except ValueError as error:
                return "", [str(error)]
        settings[setting] = reserved_name(row.pk) if row is not None else PENDING
        return encrypt(typed), []
    if row is not None and row.kind == kind:
        if row.settings.get(setting):
            settings[setting] = row.settings[setting]  # kept: stored here, or named in the config
            return row.secret, []
        if field == "chat_url" and row.settings.get("url"):
            settings["url"] = row.settings["url"]  # kept: a URL the config file gave in clear
            return "", []
    if kind == Channel.Kind.EMAIL and not settings.get("username"):
        return "", []
    return "", [f"Enter {SECRET_LABELS[field]}."]


def finish_new(row: Channel) -> None:
    """Point a new channel's secret setting at its own reserved variable, now its pk is known."""
    setting = SECRET_SETTING[Channel.Kind(row.kind)]
    if row.settings.get(setting) == PENDING:
        row.settings[setting] = reserved_name(row.pk)
        row.save(update_fields=["settings"])


def initial_values(row: Channel) -> dict[str, Any]:
    settings = row.settings
    return {
        "kind": row.kind,
        "subject_prefix": settings.get("subject_prefix", ""),
        "tls_verify": settings.get("tls_verify", True),
        "host": settings.get("host", ""),
        "port": settings.get("port"),
        "security": settings.get("security", "starttls"),
        "username": settings.get("username", ""),
        "from_address": settings.get("from_address", ""),
        "to": ", ".join(settings.get("to", [])),
        "webhook_url": settings.get("url", "") if row.kind == Channel.Kind.WEBHOOK else "",
        "max_attempts": settings.get("max_attempts", 3),
    }


def secret_note(row: Channel | None) -> str:
    """What the form says instead of showing the secret."""
    if row is None:
        return ""
    setting = SECRET_SETTING[Channel.Kind(row.kind)]
    if is_stored_in_console(row):
        return "A secret is set. Leave the field empty to keep it."
    if env := row.settings.get(setting):
        return f"The secret is read from the environment variable {env}."
    if row.settings.get("url"):
        return "The URL is in the configuration file; type one to store it encrypted instead."
    return "No secret is set."


def split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]
