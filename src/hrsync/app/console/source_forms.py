"""The Flex HRM settings form: the seed's Service URL, Username, Password, Instance Id, Companies.

The password is write-only: the field is never filled in, an empty field keeps the stored one,
and a new one is stored encrypted in `Source.secret` (hrsync.app.security.secrets).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import QueryDict
from pydantic import ValidationError

from hrsync.app.connection_settings import wiring
from hrsync.app.models import Source
from hrsync.app.security.secrets import encrypt
from hrsync.connectors.flexhrm.config import FlexHrmConfig

KIND = "flexhrm"
FORM_SETTINGS = ("url", "username", "instance", "companies", "modified_since_days")
"""The settings this form edits; any other stored setting (page size, time zone…) is kept."""
QUICK_CHECK = {"max_retries": 1, "timeout_seconds": 15}
"""A test from the console should answer within seconds, not retry for a minute."""


class SourceForm(forms.Form):
    key = forms.SlugField(
        label="Key",
        max_length=64,
        help_text="A short name for this source, used by connections and in the audit log.",
    )
    url = forms.CharField(
        label="Service URL",
        max_length=500,
        help_text="The Flex HRM API's base URL, ending in /api/ (the legacy one: /webapi/api/).",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    username = forms.CharField(
        label="Username", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    password = forms.CharField(
        label="Password",
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    instance = forms.CharField(
        label="Instance Id",
        max_length=200,
        help_text="The customer number or domain name Flex HRM gave you.",
    )
    modified_since_days = forms.IntegerField(
        label="Modified-since window (days)",
        min_value=1,
        max_value=3650,
        initial=30,
        help_text="Each import reads the employees changed in this many days.",
    )
    schedule = forms.CharField(
        label="Import schedule",
        required=False,
        max_length=100,
        help_text='A cron expression such as "*/2 * * * *", or empty to import on demand only.',
    )
    companies = forms.MultipleChoiceField(
        label="Companies",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every company the API user can see.",
    )

    def __init__(self, *args: Any, source: Source | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        if source is not None:
            del self.fields["key"]  # a source's key is how connections find it: never renamed
        data = self.data
        chosen = (
            data.getlist("companies")
            if isinstance(data, QueryDict)
            else self.initial.get("companies")
        )
        self.chosen: list[str] = [str(entry) for entry in chosen or []]
        # Any company id is a valid choice here: the live picker and "Test connection" check them.
        companies = cast(forms.MultipleChoiceField, self.fields["companies"])
        companies.choices = [(entry, entry) for entry in self.chosen]
        self.fields["password"].required = not has_password(source)

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        if Source.objects.filter(key=key).exists():
            raise forms.ValidationError("A source with this key exists already.")
        return key

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.errors:
            for field, message in config_problems(self.settings()):
                self.add_error(field if field in self.fields else None, message)
        return cleaned

    def settings(self) -> dict[str, Any]:
        """The settings to store: the stored ones with this form's fields over them."""
        stored = dict(self.source.settings) if self.source is not None else {}
        values = {name: self.cleaned_data.get(name) for name in FORM_SETTINGS}
        values["companies"] = list(values["companies"] or [])
        if self.cleaned_data.get("password"):
            stored.pop("password_env", None)  # the password typed here wins over the environment
        return stored | values

    def secret(self) -> str:
        """The encrypted password to store: the new one, else the one stored before."""
        typed = self.cleaned_data.get("password") or ""
        if typed:
            return encrypt(typed)
        return self.source.secret if self.source is not None else ""


def initial_values(source: Source) -> dict[str, Any]:
    return {
        **{name: source.settings.get(name) for name in FORM_SETTINGS},
        "companies": list(source.settings.get("companies") or []),
        "modified_since_days": source.settings.get("modified_since_days", 30),
        "schedule": source.schedule,
    }


def has_password(source: Source | None) -> bool:
    return source is not None and bool(source.secret or source.settings.get("password_env"))


def password_note(source: Source | None) -> str:
    """What the form says instead of showing the password."""
    if source is None:
        return ""
    if env := source.settings.get("password_env"):
        return (
            f"The password is read from the environment variable {env}; "
            "type one to store it here instead."
        )
    if source.secret:
        return "A password is set. Leave the field empty to keep it."
    return "No password is set."


def config_problems(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for every setting Flex HRM's config model refuses."""
    try:
        wiring.validate_settings(FlexHrmConfig, settings)
    except ValidationError as error:
        return [
            (str(item["loc"][0]) if item["loc"] else "", item["msg"].removeprefix("Value error, "))
            for item in error.errors()
        ]
    return []


def probe_source(data: Any, stored: Source | None, *, with_companies: bool) -> Source:
    """An unsaved source from the form as typed, for "Test connection" and the Company picker
    (which must see every company, not only the chosen ones).

    Raises ValueError naming what is missing. An empty password uses the stored one.
    """
    values = {name: (data.get(name) or "").strip() for name in ("url", "username", "instance")}
    missing = [SourceForm.base_fields[n].label for n, v in values.items() if not v]
    typed = data.get("password") or ""
    if not typed and not has_password(stored):
        missing.append("Password")
    if missing:
        raise ValueError(f"Fill in {', '.join(str(m) for m in missing)} first.")
    settings = (dict(stored.settings) if stored else {}) | values | QUICK_CHECK
    settings["companies"] = data.getlist("companies") if with_companies else []
    if typed:
        settings.pop("password_env", None)
    secret = encrypt(typed) if typed else (stored.secret if stored else "")
    return Source(key="probe", kind=KIND, settings=settings, secret=secret)
