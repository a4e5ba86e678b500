"""Step 3, the connection's rules, as a form: one row per attribute override, the login-name
and placement rules, groups, lifecycle, and the scope's conditions; and "Test the mapping".

The form coerces types and leaves out what equals a default, so the stored tables read as a
config file giving the same rules would (hrsync.app.connection_settings.rules checks and stores
them).
Override rows are named `map-<i>-attribute|expression`; the scope's conditions use the trigger
form's rows (`cond-<i>-field|op|value`). An empty row is ignored, so blank rows can be offered.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from pydantic import BaseModel

from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.groups import GroupSettings
from hrsync.app.connection_settings.policies import ON_RENAME, LifecycleSettings, ScopeSettings
from hrsync.app.connection_settings.rules import rule_problems, with_rules
from hrsync.app.connections.mapping_trial import explain_mapping
from hrsync.app.console.access import role_required
from hrsync.app.console.responses import render_page
from hrsync.app.console.trigger_forms import condition_rows, read_conditions
from hrsync.app.models import Connection
from hrsync.app.security.roles import Role
from hrsync.domain.profile import TargetProfile
from hrsync.engine.conditions import MATCHES, OPERATORS
from hrsync.engine.scope import PERSON_FIELDS, OutOfScope

MAX_ROWS = 200
BLANK_ROWS = 1
CODE = {"spellcheck": "false", "autocomplete": "off", "class": "code"}


class RulesForm(forms.Form):
    naming_sam = forms.CharField(
        label="sAMAccountName rule",
        required=False,
        max_length=4000,
        widget=forms.TextInput(attrs=CODE),
        help_text="Empty: the first letter of the given name and the family name, numbered.",
    )
    naming_upn = forms.CharField(
        label="UPN rule (the part before the @)",
        required=False,
        max_length=4000,
        widget=forms.TextInput(attrs=CODE),
        help_text="Empty: given.family, numbered.",
    )
    naming_upn_on_rename = forms.ChoiceField(
        label="When a person changes name",
        choices=(
            ("keep", "Keep the UPN the account was created with"),
            ("follow", "Make a new UPN from the new name"),
        ),
        initial="keep",
        required=False,
        help_text="The CN and display name always follow the name; mail follows its rule "
        "(by default the e-mail address in HR).",
    )
    placement = forms.CharField(
        label="OU placement rule",
        required=False,
        max_length=4000,
        widget=forms.TextInput(attrs=CODE),
        help_text='A path of OU names under the base DN, outermost first, e.g. Join("/", '
        '"Staff", [org.Office]). Empty: everyone in the users OU.',
    )
    groups_enabled = forms.BooleanField(
        label="Keep a group for each organisation unit", required=False
    )
    groups_levels = forms.CharField(
        label="Organisation levels, top first",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One level name per line, as in HR: Office, Department, Team.",
    )
    groups_ou = forms.CharField(label="Groups OU", required=False, max_length=500)
    groups_grace_days = forms.IntegerField(label="Days an emptied group is kept", required=False)
    groups_scope = forms.ChoiceField(
        label="Group scope",
        choices=(("global", "global"), ("universal", "universal")),
        required=False,
    )
    groups_sam_prefix = forms.CharField(
        label="Group name prefix", required=False, max_length=50, help_text="Up to 8 characters."
    )
    lifecycle_prehire_days = forms.IntegerField(
        label="Days before the start date a pre-hire's disabled account is made",
        required=False,
    )
    lifecycle_delete_after_days = forms.IntegerField(
        label="Delete a leaver's account this many days after the last day",
        required=False,
        help_text="Empty: never; leavers' accounts stay disabled.",
    )
    leavers_ou = forms.CharField(
        label="Leavers OU",
        required=False,
        max_length=500,
        help_text="Where leavers' disabled accounts are moved. Empty: they stay where they are.",
    )
    scope_match = forms.ChoiceField(
        label="Provision a person when",
        required=False,
        choices=[(m, f"{m} of the conditions hold") for m in MATCHES],
    )
    scope_when_out_of_scope = forms.ChoiceField(
        label="When a person's account falls outside the scope",
        required=False,
        choices=[(item.value, item.value) for item in OutOfScope],
    )
    employee_number = forms.CharField(label="Employee number", required=False, max_length=64)

    def __init__(self, data: QueryDict | None = None, *, connection: Connection) -> None:
        super().__init__(data, initial=_initial(connection.settings))
        self.connection = connection
        # Only what the target has: login-name rules where the profile takes them (AD's sam
        # and upn), placement, a leavers OU and the groups' OU, scope and prefix where
        # accounts live in containers.
        profile = wiring.profile_of(connection.kind, connection.settings)
        if not profile.naming_rules:
            for name in NAMING_FIELDS:
                del self.fields[name]
        if not profile.capabilities.hierarchy:
            for name in (*PLACEMENT_FIELDS, *DIRECTORY_GROUP_FIELDS, *LEAVERS_FIELDS):
                del self.fields[name]
        else:  # the containers in the target's word (AD: "OU")
            container = profile.container_label
            self.fields["placement"].label = f"{container} placement rule"
            self.fields["groups_ou"].label = f"Groups {container}"
            self.fields["leavers_ou"].label = f"Leavers {container}"
        self._is_valid: bool | None = None
        stored = connection.settings
        self.mapping_rows = _rows(data) if data is not None else _stored_rows(stored)
        conditions = (stored.get("scope") or {}).get("conditions", [])
        self.conditions = read_conditions(data) if data is not None else list(conditions)
        self.scope_problem = ""

    def _shown(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        return [self[name] for name in names if name in self.fields]

    @property
    def naming_fields(self) -> list[forms.BoundField]:
        return self._shown(NAMING_FIELDS)

    @property
    def placement_fields(self) -> list[forms.BoundField]:
        return self._shown(PLACEMENT_FIELDS)

    @property
    def group_fields(self) -> list[forms.BoundField]:
        return self._shown(("groups_grace_days", *DIRECTORY_GROUP_FIELDS))

    @property
    def leavers_fields(self) -> list[forms.BoundField]:
        return self._shown(LEAVERS_FIELDS)

    def values(self) -> dict[str, Any]:
        """The rules as step 3 stores them (connection_rules.with_rules); a table the target
        does not have is left out."""
        data = self.cleaned_data
        naming = {k: data.get(f"naming_{k}", "") for k in ("sam", "upn")}
        follows = data.get(f"naming_{ON_RENAME}") == "follow"
        return {
            "mapping": {row["attribute"]: row["expression"] for row in self.mapping_rows},
            "naming": _given(naming | {ON_RENAME: "follow" if follows else ""}),
            "placement": data.get("placement", ""),
            "groups": _given(_table(data, "groups"), GroupSettings),
            "lifecycle": _given(_table(data, "lifecycle"), LifecycleSettings),
            "leavers_ou": data.get("leavers_ou", ""),
            "scope": _given(
                {
                    "match": data["scope_match"],
                    "conditions": self.conditions,
                    "when_out_of_scope": data["scope_when_out_of_scope"],
                },
                ScopeSettings,
            ),
        }

    def put_problems(self, problems: dict[str, str]) -> None:
        """The checks' problems on the field, override row or conditions they concern."""
        for key, message in problems.items():
            field = key.replace(".", "_")
            if key.startswith("mapping."):
                self._put_on_row(key.removeprefix("mapping."), message)
            elif key.startswith("scope"):
                self.scope_problem = message
            elif field in self.fields or key == "groups":
                self.add_error(field if field in self.fields else "groups_enabled", message)
            else:
                self.add_error(None, f"{key}: {message}")

    def has_problems(self) -> bool:
        return bool(self.errors or self.scope_problem) or any(
            row["error"] for row in self.mapping_rows
        )

    def _put_on_row(self, attribute: str, message: str) -> None:
        row = next((r for r in self.mapping_rows if r["attribute"] == attribute), None)
        if row is None:
            self.add_error(None, f"{attribute}: {message}")
        else:
            row["error"] = message

    def is_valid(self) -> bool:
        """Valid fields, override rows that each name one attribute once, and rules that pass
        the config loader's checks (connection_rules.rule_problems); checked once per form."""
        if self._is_valid is None:
            fields_valid = super().is_valid()
            self._check_rows()
            if fields_valid:
                self.put_problems(rule_problems(self.connection.kind, self.settings()))
            self._is_valid = not self.has_problems()
        return self._is_valid

    def settings(self) -> dict[str, Any]:
        """The connection's settings with these rules: what saving would store."""
        return with_rules(self.connection.settings, self.values())

    def _check_rows(self) -> None:
        seen: set[str] = set()
        for row in self.mapping_rows:
            if not row["attribute"]:
                row["error"] = "name the attribute this expression sets"
            elif row["attribute"] in seen:
                row["error"] = f"{row['attribute']} is given twice; keep one row"
            seen.add(row["attribute"])


NAMING_FIELDS = ("naming_sam", "naming_upn", f"naming_{ON_RENAME}")
PLACEMENT_FIELDS = ("placement",)
DIRECTORY_GROUP_FIELDS = ("groups_ou", "groups_scope", "groups_sam_prefix")
LEAVERS_FIELDS = ("leavers_ou",)


def _initial(settings: dict[str, Any]) -> dict[str, Any]:
    groups = GroupSettings.model_construct(**(settings.get("groups") or {}))
    lifecycle = LifecycleSettings.model_construct(**(settings.get("lifecycle") or {}))
    scope = ScopeSettings.model_construct(**(settings.get("scope") or {}))
    naming = settings.get("naming") or {}
    return {
        "naming_sam": naming.get("sam", ""),
        "naming_upn": naming.get("upn", ""),
        f"naming_{ON_RENAME}": naming.get(ON_RENAME, "keep"),
        "placement": settings.get("placement", ""),
        "groups_enabled": groups.enabled,
        "groups_levels": "\n".join(groups.levels),
        "groups_ou": groups.ou,
        "groups_grace_days": groups.grace_days,
        "groups_scope": groups.scope,
        "groups_sam_prefix": groups.sam_prefix,
        "lifecycle_prehire_days": lifecycle.prehire_days,
        "lifecycle_delete_after_days": lifecycle.delete_after_days,
        "leavers_ou": settings.get("leavers_ou") or "",
        "scope_match": scope.match,
        "scope_when_out_of_scope": str(scope.when_out_of_scope),
    }


def _table(data: dict[str, Any], table: str) -> dict[str, Any]:
    """The form's `<table>_<key>` fields as the table's keys; levels one per line."""
    values = {
        name.removeprefix(f"{table}_"): value
        for name, value in data.items()
        if name.startswith(f"{table}_")
    }
    if "levels" in values:
        values["levels"] = [line.strip() for line in values["levels"].splitlines() if line.strip()]
    return values


def _given(values: dict[str, Any], model: type[BaseModel] | None = None) -> dict[str, Any]:
    """What the admin gave: empty fields and the model's defaults left out, as a config file
    that does not mention them."""
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in (model.model_fields.items() if model else ())
    }
    return {
        key: value
        for key, value in values.items()
        if value not in (None, "") and (key not in defaults or value != defaults[key])
    }


def _rows(data: QueryDict) -> list[dict[str, Any]]:
    rows = []
    for index in range(MAX_ROWS):
        attribute = data.get(f"map-{index}-attribute", "").strip()
        # Browsers send a textarea's line breaks as CRLF; a config file's are LF.
        expression = data.get(f"map-{index}-expression", "").replace("\r\n", "\n").strip()
        if attribute or expression:
            rows.append({"attribute": attribute, "expression": expression, "error": ""})
    return rows


def _stored_rows(settings: dict[str, Any]) -> list[dict[str, Any]]:
    overrides = settings.get("mapping") or {}
    return [{"attribute": a, "expression": e, "error": ""} for a, e in overrides.items()]


def rules_context(form: RulesForm, profile: TargetProfile) -> dict[str, Any]:
    """What step 3's template shows besides the fields: the rows, with blank ones after them."""
    rows = [row | {"index": i} for i, row in enumerate(form.mapping_rows)]
    rows += [blank_row(len(rows) + i) for i in range(BLANK_ROWS)]
    conditions = condition_rows({"conditions": form.conditions})
    return {
        "mapping_rows": rows,
        "next_row": len(rows),
        "conditions": conditions,
        "next_condition": len(conditions),
        "operators": OPERATORS,
        "attributes": [spec.name for spec in profile.attributes],
        "person_fields": sorted(PERSON_FIELDS | {"org.Office", "org.Department"}),
    }


def blank_row(index: int) -> dict[str, Any]:
    return {"index": index, "attribute": "", "expression": "", "error": ""}


@role_required(Role.ADMIN)
def mapping_row(request: HttpRequest, key: str) -> HttpResponse:
    """htmx: one more blank override row (and the button for the one after it)."""
    index = request.GET.get("index", "0")
    number = int(index) if index.isdigit() and int(index) < MAX_ROWS else 0
    context = {"row": blank_row(number), "next_row": number + 1, "key": key, "oob": True}
    return render_page(request, "hrsync/connections/mapping_row.html", context)


# --- "Test the mapping" --------------------------------------------------------------------


def run_mapping_test(
    connection: Connection, employee_number: str, form: RulesForm | None = None
) -> dict[str, Any]:
    """What the rules make of one person: the stored rules, or those typed in `form` when they
    pass the checks. {"people": [...]} or {"problem": "..."} for the template."""
    number = employee_number.strip()
    if form is not None and not form.is_valid():
        return {"problem": "Fix the rules marked above, then test again."}
    if not number:
        return {"problem": "Enter an employee number to test the mapping with."}
    try:
        people = explain_mapping(connection.key, number, form.settings() if form else None)
    except wiring.MissingSecretError as error:
        return {"problem": f"The target settings are incomplete: {error}."}
    if not people:
        return {"problem": f"No person with employee number {number} in the source."}
    return {"people": people, "number": number}
