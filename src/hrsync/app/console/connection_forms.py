"""The forms of a connection's steps and its schedule. They render fields and coerce types; the
rules live in hrsync.app.connections.lifecycle, whose per-field errors are put back on the form."""

from __future__ import annotations

from typing import Any, ClassVar, cast
from zoneinfo import available_timezones

from django import forms

from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.steps import DEFAULT_THRESHOLD, InvalidValuesError, safety_of
from hrsync.app.models import Connection, Source
from hrsync.connectors.csv.formats import FORMATS
from hrsync.connectors.scim.profile import PRESET_LABELS

ZONES = sorted(available_timezones())
UNITS = (("m", "minutes"), ("h", "hours"), ("d", "days"))


class SourceStepForm(forms.Form):
    key = forms.SlugField(
        label="Key",
        max_length=64,
        help_text="A short unique name used in URLs, the API, triggers and the audit log.",
    )
    name = forms.CharField(label="Name", max_length=200, required=False)
    source = forms.ChoiceField(label="Source HR system")
    kind = forms.ChoiceField(
        label="Target type",
        required=False,  # Active Directory when left out, as hrsync has always made them
        initial="active_directory",
        help_text="Where the accounts go; it is chosen here, once, for the connection's life.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        initial="Europe/Stockholm",
        help_text="Start and end dates, and the schedule, are read in this zone.",
    )

    def __init__(self, *args: Any, connection: Connection | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if connection is not None:
            del self.fields["key"]  # the key is how runs, triggers and the audit find it
            del self.fields["kind"]
        else:
            # Only the kinds step 2 has a form for; the others are set up in a config file.
            kinds = [(kind, wiring.profile_of(kind).label) for kind in TARGET_FORMS]
            cast(forms.ChoiceField, self.fields["kind"]).choices = kinds
        sources = Source.objects.order_by("key").values_list("key", "kind")
        source_field = cast(forms.ChoiceField, self.fields["source"])
        source_field.choices = [(key, f"{key} ({kind})") for key, kind in sources]
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = [(z, z) for z in ZONES]


class TargetForm(forms.Form):
    """Step 2 of one kind of target: its fields, and how its secret is told on the page. The
    secret field is `password` for every kind (AD's bind password, a SCIM token): write-only,
    stored encrypted, never rendered back."""

    stored_note = "A secret is stored; leave this empty to keep it."
    needed_note = "Required. It is stored encrypted and never shown again."
    template: ClassVar[str] = "hrsync/connections/target_fields.html"
    """The fields' include in step 2: every field in order by default; a kind whose fields
    need their own layout names its own (the wizard's page, buttons and checks stay)."""

    @classmethod
    def initial_for(cls, settings: dict[str, Any]) -> dict[str, Any]:
        initial = {name: settings.get(name) for name in cls.base_fields if name != "password"}
        initial["tls_verify"] = settings.get("tls_verify", True)
        return initial

    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values["ca_file"] = values.get("ca_file") or None
        return values


class DirectoryTargetForm(TargetForm):
    stored_note = "A password is stored; leave this empty to keep it."
    needed_note = (
        "Required: the password of the bind account. It is stored encrypted and never shown again."
    )

    url = forms.CharField(
        label="Domain controller URL",
        max_length=500,
        help_text="ldaps://dc.example.com (or ldap:// with StartTLS).",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    tls_verify = forms.BooleanField(label="Verify the certificate", required=False, initial=True)
    start_tls = forms.BooleanField(label="Use StartTLS (ldap:// URLs)", required=False)
    ca_file = forms.CharField(
        label="CA bundle file", max_length=500, required=False, help_text="PEM file on this server."
    )
    bind_dn = forms.CharField(label="Bind DN or user@domain", max_length=500)
    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    base_dn = forms.CharField(label="Base DN (domain)", max_length=500)
    users_ou = forms.CharField(
        label="Users OU",
        max_length=500,
        help_text='A DN inside the base DN, or relative to it ("OU=Staff").',
    )
    upn_suffix = forms.CharField(label="UPN suffix", max_length=200, help_text="example.com")


class ScimTargetForm(TargetForm):
    stored_note = "A token (or password) is stored; leave this empty to keep it."
    needed_note = "Required: the app's bearer token, or the password of basic authentication. It is stored encrypted and never shown again."  # noqa: E501

    url = forms.CharField(
        label="SCIM base URL",
        max_length=500,
        help_text="https://app.example.com/scim/v2 — the URL /Users and /ServiceProviderConfig hang under.",  # noqa: E501
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    profile = forms.ChoiceField(
        label="App",
        choices=list(PRESET_LABELS.items()),
        initial="generic",
        help_text="The preset mapping to start from; step 3 overrides any attribute.",
    )
    auth = forms.ChoiceField(
        label="Authentication",
        choices=(("bearer", "Bearer token"), ("basic", "User name and password")),
        initial="bearer",
    )
    username = forms.CharField(
        label="User name", max_length=200, required=False, help_text="Basic authentication only."
    )
    password = forms.CharField(
        label="Token or password",
        required=False,
        strip=False,
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    tls_verify = forms.BooleanField(
        label="Verify the certificate",
        required=False,
        initial=True,
        help_text="Turn off only for this connection, for an app on a private CA you cannot name.",
    )
    ca_file = forms.CharField(
        label="CA bundle file", max_length=500, required=False, help_text="PEM file on this server."
    )
    attributes = forms.CharField(
        label="Attributes synchronised",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One SCIM path a line (userName, title, …); empty: all of the preset's.",
    )
    custom_fields = forms.CharField(
        label="HR custom fields",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Winningtemp: one HR custom field a line, sent by name into its user extension.",
    )

    @classmethod
    def initial_for(cls, settings: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_for(settings)
        for name in ("attributes", "custom_fields"):
            initial[name] = "\n".join(settings.get(name) or [])
        initial["auth"] = settings.get("auth") or "bearer"
        initial["profile"] = settings.get("profile") or "generic"
        return initial

    def values(self) -> dict[str, Any]:
        values = super().values()
        for name in ("attributes", "custom_fields"):
            values[name] = [line.strip() for line in str(values[name]).splitlines() if line.strip()]
        if values.get("auth") != "basic":
            values.pop("username", None)
        return {key: value for key, value in values.items() if value not in ("", None)} | {
            "tls_verify": bool(values.get("tls_verify"))
        }


class CsvTargetForm(TargetForm):
    """A CSV file: its format, full or delta, and where it goes (a folder, or SFTP with the
    server's key pinned)."""

    stored_note = "A password or private key is stored; leave this empty to keep it."
    needed_note = "SFTP only: the password, or the private key (PEM), unless a key file is named. It is stored encrypted and never shown again."  # noqa: E501

    format = forms.ChoiceField(
        label="File format",
        choices=[(name, f.label) for name, f in FORMATS.items()],
        initial="flexwhere",
        help_text="The preset columns and rules; step 3 overrides any column's expression.",
    )
    contents = forms.ChoiceField(
        label="Contents",
        choices=(
            ("full", "Every row, each time"),
            ("delta", "Only rows created or changed, and a removals file"),
        ),
        initial="full",
    )
    delivery = forms.ChoiceField(
        label="Delivery",
        choices=(("folder", "A folder on this server"), ("sftp", "SFTP")),
        initial="folder",
    )
    folder = forms.CharField(
        label="Folder", max_length=500, required=False, help_text="Folder delivery: /srv/drop"
    )
    host = forms.CharField(label="SFTP host", max_length=255, required=False)
    port = forms.IntegerField(label="Port", min_value=1, max_value=65535, required=False)
    username = forms.CharField(label="User name", max_length=200, required=False)
    key_file = forms.CharField(
        label="Private key file",
        max_length=500,
        required=False,
        help_text="A path on this server; or enter the key or a password below.",
    )
    password = forms.CharField(
        label="Password or private key",
        required=False,
        strip=False,
        max_length=8000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    host_key_sha256 = forms.CharField(
        label="Server key fingerprint",
        max_length=100,
        required=False,
        help_text="SHA256:… as ssh-keygen -lf prints it; Test connection shows the server's.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    remote_dir = forms.CharField(label="Remote folder", max_length=500, required=False)
    receipt = forms.BooleanField(
        label="Also write NAME.sha256", required=False, help_text="A checksum receipt per file."
    )

    @classmethod
    def initial_for(cls, settings: dict[str, Any]) -> dict[str, Any]:
        initial = {name: settings.get(name) for name in cls.base_fields if name != "password"}
        for name, field in cls.base_fields.items():
            if initial.get(name) is None and field.initial is not None:
                initial[name] = field.initial
        return initial

    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        if values.get("delivery") != "sftp":
            for name in ("host", "port", "username", "key_file", "host_key_sha256", "remote_dir"):
                values.pop(name, None)
        return {key: value for key, value in values.items() if value not in ("", None)} | {
            "receipt": bool(values.get("receipt"))
        }


class Microsoft365TargetForm(TargetForm):
    """An Entra tenant through Microsoft Graph: the app registration (tenant, client id, client
    secret), where its token endpoint and Graph are, and how new users are made."""

    stored_note = "A client secret is stored; leave this empty to keep it."
    needed_note = "Required: a client secret of the app registration. It is stored encrypted and never shown again."  # noqa: E501

    destination = forms.ChoiceField(
        label="Destination",
        choices=(("cloud", "Cloud: accounts made in Entra ID"),),
        initial="cloud",
        help_text="Hybrid (accounts in on-premises AD, Microsoft 365 only licences and groups) "
        "is not built yet.",
    )
    tenant_id = forms.CharField(
        label="Tenant",
        max_length=200,
        help_text="The tenant's id or its domain: contoso.onmicrosoft.com.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    client_id = forms.CharField(
        label="Application (client) id",
        max_length=200,
        help_text="Of the app registration with User.ReadWrite.All (and Group.ReadWrite.All "
        "for groups).",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    password = forms.CharField(
        label="Client secret",
        required=False,
        strip=False,
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    upn_suffix = forms.CharField(
        label="UPN suffix", max_length=253, help_text="A verified domain: contoso.com"
    )
    usage_location = forms.CharField(
        label="Usage location",
        max_length=2,
        required=False,
        help_text="Two-letter country new users get (NL, SE); licences need one.",
    )
    login_url = forms.CharField(
        label="Login URL",
        max_length=500,
        required=False,
        help_text="Empty: https://login.microsoftonline.com (national clouds differ).",
    )
    graph_url = forms.CharField(
        label="Graph URL",
        max_length=500,
        required=False,
        help_text="Empty: https://graph.microsoft.com/v1.0.",
    )
    tls_verify = forms.BooleanField(label="Verify the certificate", required=False, initial=True)

    @classmethod
    def initial_for(cls, settings: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_for(settings)
        initial["destination"] = settings.get("destination") or "cloud"
        return initial

    def values(self) -> dict[str, Any]:
        """The settings entered; empty URLs and usage location left to the defaults."""
        values = dict(self.cleaned_data)
        return {key: value for key, value in values.items() if value not in ("", None)} | {
            "tls_verify": bool(values.get("tls_verify"))
        }


TARGET_FORMS: dict[str, type[TargetForm]] = {
    "active_directory": DirectoryTargetForm,
    "scim": ScimTargetForm,
    "csv": CsvTargetForm,
    "microsoft365": Microsoft365TargetForm,
}
"""Step 2's form of each kind of target: a new kind adds its form here and nothing else in the
wizard; the form names its fields' template (`TargetForm.template`, the shared one unless the kind
needs its own)."""


ACCOUNTS, GROUPS = "the accounts", "hrsync's groups"
GUARDED = (
    ("disable", "Disables", ACCOUNTS),
    ("delete", "Deletes", ACCOUNTS),
    ("move", "Moves", ACCOUNTS),
    ("rename", "Renames", ACCOUNTS),
    ("wipe", "An attribute emptied", ACCOUNTS),
    ("retire_group", "Groups retired", GROUPS),
    ("remove_members", "Memberships removed", ACCOUNTS),
)
"""The safety gate's thresholds as the form shows them: one row per kind, two fields each, and
what the percentage is of."""


class ScopeStepForm(forms.Form):
    companies = forms.CharField(
        label="Companies in scope",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One company name per line; empty: every company the source reads.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, label, of_what in GUARDED:
            self.fields[f"{kind}_percent"] = forms.FloatField(
                label=f"{label}: more than this percent of {of_what}",
                min_value=0,
                max_value=100,
                initial=DEFAULT_THRESHOLD.percent,
            )
            self.fields[f"{kind}_count"] = forms.IntegerField(
                label=f"{label}: and at least this many",
                min_value=0,
                initial=DEFAULT_THRESHOLD.count,
            )

    def threshold_rows(self) -> list[tuple[str, str, forms.BoundField, forms.BoundField]]:
        return [
            (label, of_what, self[f"{kind}_percent"], self[f"{kind}_count"])
            for kind, label, of_what in GUARDED
        ]

    @classmethod
    def initial_for(cls, connection: Connection) -> dict[str, Any]:
        policy = safety_of(connection.settings)
        values: dict[str, Any] = {}
        for kind, _, _ in GUARDED:
            threshold = policy.threshold(kind)
            values |= {f"{kind}_percent": threshold.percent, f"{kind}_count": threshold.count}
        companies = connection.settings.get("scope", {}).get("companies", [])
        return {**values, "companies": "\n".join(companies)}

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        safety = {
            kind: {"percent": data[f"{kind}_percent"], "count": data[f"{kind}_count"]}
            for kind, _, _ in GUARDED
        }
        companies = str(data.get("companies") or "").splitlines()
        return {"safety": safety, "companies": companies}


class ScheduleForm(forms.Form):
    mode = forms.ChoiceField(
        label="Run",
        choices=(
            ("interval", "every interval from a start time"),
            ("cron", "on a cron schedule"),
            ("on-change", "when the HR source changes"),
        ),
        widget=forms.RadioSelect,
        initial="interval",
    )
    # Text, not a DateTimeField: the start is a wall time in the connection's zone, not the
    # server's, and Django would refuse one that DST skips in the server's zone.
    start = forms.CharField(
        label="Start time",
        required=False,
        max_length=16,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    every = forms.IntegerField(label="Interval", required=False, min_value=1, initial=15)
    unit = forms.ChoiceField(label="Unit", choices=UNITS, required=False, initial="m")
    cron = forms.CharField(
        label="Cron expression",
        required=False,
        max_length=100,
        help_text="minute hour day month weekday, e.g. */30 7-18 * * 1-5",
    )

    def schedule_text(self) -> str:
        """The schedule the fields describe; raises InvalidValuesError naming the field."""
        data = self.cleaned_data
        match data.get("mode"):
            case "cron":
                return str(data.get("cron") or "").strip()
            case "on-change":
                return "on-change"
        start, every = str(data.get("start") or "").strip(), data.get("every")
        if not start or not every:
            raise InvalidValuesError({"start": "give a start time and an interval"})
        return f"every {every}{data.get('unit') or 'm'} from {start[:16]}"

    @classmethod
    def initial_for(cls, schedule: str) -> dict[str, Any]:
        parts = schedule.split()
        if schedule == "on-change":
            return {"mode": "on-change"}
        if len(parts) == 4 and parts[0] == "every":
            return {
                "mode": "interval",
                "every": int(parts[1][:-1]),
                "unit": parts[1][-1],
                "start": parts[3],
            }
        if schedule:
            return {"mode": "cron", "cron": schedule}
        return {"mode": "interval", "every": 15, "unit": "m"}


def put_errors(form: forms.Form, error: InvalidValuesError) -> None:
    """Lifecycle errors onto the form's fields (the form-wide list for a field it lacks)."""
    for name, message in error.errors.items():
        field = name.split(".")[-1]
        form.add_error(field if field in form.fields else None, message)
