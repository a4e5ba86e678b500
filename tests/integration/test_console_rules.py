"""Step 3 of a connection, its rules, through Django's test client: saved rules are stored as
`hrsync config load` stores the same tables and used by the next plan; a broken rule is shown
on its own field with its line and column and nothing is stored; only admins save; "Test the
mapping" shows each attribute's value, rule and the fields it read, for the rules as typed; and
what an admin types is escaped in the page. The simulation plans against a directory that
cannot be reached (a closed port), which it tolerates: every person is a create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.test_console_connections import TARGET, client_for, domain_person
from tests.sites import OFFLINE_CONFIG

from hrsync.app.config_file import load_config
from hrsync.app.connection_settings.rules import RULE_KEYS
from hrsync.app.models import AuditEvent, Connection, Person, RunChange, Source
from hrsync.app.security import secrets

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]

MAIL_RULE = 'Join("@", ToLower([given_name]), "corp.example")'
RULES_TOML = """
leavers_ou = "OU=Leavers"
placement = 'Join("/", "Staff", [company_name])'

[connections.adfile.mapping]
mail = 'Join("@", ToLower([given_name]), "corp.example")'
description = '[title]'

[connections.adfile.naming]
sam = 'Left([family_name], 6)'
upn_on_rename = "follow"

[connections.adfile.groups]
enabled = true
levels = ["Office", "Department"]
ou = "OU=Org"

[connections.adfile.lifecycle]
prehire_days = 7
delete_after_days = 30

[connections.adfile.scope]
conditions = [{ field = "employment_type", op = "not_equals", value = "External" }]
when_out_of_scope = "leave"
"""
"""The rules RULES_FORM enters, as a config file states them."""

RULES_FORM: dict[str, Any] = {
    "map-0-attribute": "mail",
    "map-0-expression": MAIL_RULE,
    "map-1-attribute": "description",
    "map-1-expression": "[title]",
    "map-2-attribute": "",
    "map-2-expression": "",
    "naming_sam": "Left([family_name], 6)",
    "naming_upn": "",
    "naming_upn_on_rename": "follow",
    "placement": 'Join("/", "Staff", [company_name])',
    "groups_enabled": "on",
    "groups_levels": "Office\r\nDepartment\r\n",
    "groups_ou": "OU=Org",
    "groups_grace_days": "30",
    "groups_scope": "global",
    "groups_sam_prefix": "",
    "lifecycle_prehire_days": "7",
    "lifecycle_delete_after_days": "30",
    "leavers_ou": "OU=Leavers",
    "scope_match": "all",
    "cond-0-field": "employment_type",
    "cond-0-op": "not_equals",
    "cond-0-value": "External",
    "cond-1-field": "",
    "scope_when_out_of_scope": "leave",
    "employee_number": "",
    "action": "save",
}
EMPTY_FORM: dict[str, Any] = {"groups_scope": "global", "scope_match": "all"} | {
    "scope_when_out_of_scope": "disable"
}


@pytest.fixture
def connection() -> Connection:
    """In simulation at step 5, three people in its source, the companies chosen in step 4."""
    flex = Source.objects.create(key="flex", kind="flexhrm", settings={})
    for number in (1, 2, 3):
        person = domain_person(number)
        Person.objects.create(
            source=flex,
            person_id=person.person_id,
            employee_number=person.employee_number,
            display_name=person.display_name,
            fields=person.fields() | {"title": "Clerk"},
            content_hash=person.content_hash(),
        )
    return Connection.objects.create(
        key="ad",
        name="Head office AD",
        source=flex,
        kind="active_directory",
        settings=TARGET | {"scope": {"companies": ["Acme AB"]}},
        secret=secrets.encrypt("bind-secret"),
        state=Connection.State.SIMULATION,
        step=5,
    )


def rules_of(connection: Connection) -> dict[str, Any]:
    connection.refresh_from_db()
    return {key: connection.settings[key] for key in RULE_KEYS if key in connection.settings}


def loaded_rules(tmp_path: Path) -> dict[str, Any]:
    """The rules `hrsync config load` stores for RULES_TOML, on a connection of its own."""
    text = OFFLINE_CONFIG.replace("[sources.flex]", "[sources.flexfile]")
    text = text.replace('source = "flex"', 'source = "flexfile"')
    text = text.replace("[connections.ad]", "[connections.adfile]")
    path = tmp_path / "hrsync.toml"
    path.write_text(text + RULES_TOML, encoding="utf-8")
    load_config(path)
    return rules_of(Connection.objects.get(key="adfile"))


def page(response: Any) -> str:
    return str(response.content.decode())


def test_saved_rules_are_stored_as_the_config_file_stores_them_and_the_plan_uses_them(
    connection: Connection, tmp_path: Path
) -> None:
    admin = client_for("admin")
    response = admin.post("/connections/ad/step/3/", RULES_FORM)
    assert response.status_code == 302 and response["Location"] == "/connections/ad/step/4/"
    stored = rules_of(connection)
    loaded = loaded_rules(tmp_path)
    # The config file has no companies: step 4 chose them and step 3 keeps them.
    assert stored["scope"].pop("companies") == ["Acme AB"]
    assert stored == loaded
    assert (connection.state, connection.step) == ("draft", 4)
    event = AuditEvent.objects.get(action="connection.step_saved")
    assert (event.actor, event.object_key, event.after["saved_step"]) == ("admin", "ad", 3)
    assert event.after["settings"]["mapping"]["mail"] == MAIL_RULE
    assert "mapping" not in event.before["settings"]

    admin.post("/connections/ad/step/4/", {"companies": "Acme AB"} | safety_form())
    admin.post("/connections/ad/simulate/")
    creates = RunChange.objects.filter(kind="create", run__is_simulation=True)
    attributes = {c.payload["person_id"]: c.payload["attributes"] for c in creates}
    assert attributes["p1"]["mail"] == "greta@corp.example"
    assert attributes["p2"]["description"] == "Clerk"
    dns = {c.payload["person_id"]: c.payload["ref"] for c in creates}
    assert dns["p1"].endswith(",OU=Acme AB,OU=Staff,DC=example,DC=test")
    # The plan's diff says why: each value with the rule that gave it and the fields it read.
    run_id = creates.first().run_id  # type: ignore[union-attr]
    shown = page(admin.get(f"/connections/ad/plan/{run_id}/", {"q": "Greta"}))
    assert (
        "<code>Join(&quot;@&quot;, ToLower([given_name]), &quot;corp.example&quot;)</code>" in shown
    )
    assert "reads Given name = &quot;Greta&quot;" in shown
    assert "<code>Join(&quot;/&quot;, &quot;Staff&quot;, [company_name])</code>" in shown


def safety_form() -> dict[str, Any]:
    kinds = ("disable", "delete", "move", "rename", "wipe", "retire_group", "remove_members")
    return {
        f"{kind}_{part}": 100 if part == "percent" else 1000
        for kind in kinds
        for part in ("percent", "count")
    }


def test_the_page_shows_the_stored_rules(connection: Connection) -> None:
    client_for("admin").post("/connections/ad/step/3/", RULES_FORM)
    shown = page(client_for("viewer").get("/connections/ad/step/3/"))
    assert 'name="map-0-attribute" value="mail"' in shown
    assert "ToLower([given_name]), &quot;corp.example&quot;)</textarea>" in shown
    assert 'value="Left([family_name], 6)"' in shown
    assert "Office\nDepartment</textarea>" in shown
    assert 'name="cond-0-field" value="employment_type"' in shown
    assert '<option value="leave" selected>' in shown


def test_a_broken_rule_is_shown_on_its_field_with_line_and_column_and_nothing_is_stored(
    connection: Connection,
) -> None:
    before = dict(connection.settings)
    broken = RULES_FORM | {
        "map-1-expression": 'Join(" / ",\r\n  [company_name], [title]',
        "naming_sam": "Left([family_name] 6)",
        "groups_levels": "",
        "lifecycle_prehire_days": "-1",
        "cond-0-field": "no_such_field",
    }
    response = client_for("admin").post("/connections/ad/step/3/", broken)
    assert response.status_code == 400
    shown = page(response)
    row_error = shown.split('id="map-1-error">')[1].split("</p>")[0]
    assert "<code>description</code>: line 2, column" in row_error
    assert 'id="map-0-error"' not in shown  # the mail rule is fine
    sam_error = shown.split('id="id_naming_sam_error">')[1].split("</p>")[0]
    assert sam_error == "line 1, column 20: a comma is missing before 6"
    assert "levels and an ou" in shown.split('id="id_groups_enabled_error">')[1].split("</p>")[0]
    prehire = shown.split('id="id_lifecycle_prehire_days_error">')[1].split("</p>")[0]
    assert "greater than or equal to 0" in prehire
    assert "no field &#x27;no_such_field&#x27;" in shown.split('id="scope-error">')[1]
    connection.refresh_from_db()
    assert connection.settings == before and (connection.state, connection.step) == (
        "simulation",
        5,
    )
    assert not AuditEvent.objects.exists()


def test_a_rule_for_an_attribute_hrsync_sets_itself_or_given_twice_is_refused(
    connection: Connection,
) -> None:
    form = EMPTY_FORM | {
        "map-0-attribute": "sAMAccountName",
        "map-0-expression": "[given_name]",
        "map-1-attribute": "title",
        "map-1-expression": "[title]",
        "map-2-attribute": "title",
        "map-2-expression": "[company_name]",
    }
    shown = page(client_for("admin").post("/connections/ad/step/3/", form))
    assert "set by hrsync itself" in shown.split('id="map-0-error">')[1].split("</p>")[0]
    assert "title is given twice" in shown.split('id="map-2-error">')[1].split("</p>")[0]
    assert "mapping" not in rules_of(connection)


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_save_rules(connection: Connection, role: str) -> None:
    client = client_for(role)
    shown = page(client.get("/connections/ad/step/3/"))
    assert "<fieldset disabled>" in shown and "Confirm mapping and continue" not in shown
    assert client.post("/connections/ad/step/3/", RULES_FORM).status_code == 403
    assert client.get("/connections/ad/rules/rows/?index=3").status_code == 403
    assert rules_of(connection) == {"scope": {"companies": ["Acme AB"]}}
    assert not AuditEvent.objects.exists()


def test_an_empty_form_clears_the_rules_but_keeps_step_4s_companies(
    connection: Connection,
) -> None:
    admin = client_for("admin")
    admin.post("/connections/ad/step/3/", RULES_FORM)
    assert admin.post("/connections/ad/step/3/", EMPTY_FORM).status_code == 302
    assert rules_of(connection) == {"scope": {"companies": ["Acme AB"]}}


def test_the_mapping_test_shows_the_typed_override_its_value_and_the_fields_it_read(
    connection: Connection,
) -> None:
    form = RULES_FORM | {"action": "test", "employee_number": "1001"}
    response = client_for("admin").post("/connections/ad/step/3/", form)
    assert response.status_code == 200
    shown = page(response)
    table = shown.split('<table class="compact mapping-test">')[1].split("</table>")[0]
    mail = table.split("<code>mail</code>")[1].split("</tr>")[0]
    assert "greta@corp.example" in mail and "<strong>override</strong>" in mail
    assert "<td>given_name</td>" in mail
    assert "ToLower([given_name])" in mail  # the rule, and its steps
    sn = table.split("<code>sn</code>")[1].split("</tr>")[0]
    assert "Lund1" in sn and "default" in sn and "<td>family_name</td>" in sn
    assert "<dt>Name</dt><dd><code>Greta Lund1</code>" in shown
    assert "OU=Acme AB,OU=Staff,DC=example,DC=test" in shown
    assert "mapping" not in rules_of(connection)  # testing saves nothing
    assert not AuditEvent.objects.exists()


def test_a_viewer_tests_the_saved_rules(connection: Connection) -> None:
    client_for("admin").post("/connections/ad/step/3/", RULES_FORM)
    viewer = client_for("viewer")
    shown = page(viewer.get("/connections/ad/step/3/", {"employee_number": "1002"}))
    mail = shown.split("<code>mail</code>")[-1].split("</tr>")[0]
    assert "olof@corp.example" in mail and "override" in mail
    missing = page(viewer.get("/connections/ad/step/3/", {"employee_number": "9999"}))
    assert "No person with employee number 9999 in the source." in missing


def test_a_mapping_test_of_broken_rules_asks_to_fix_them_first(connection: Connection) -> None:
    form = RULES_FORM | {
        "action": "test",
        "employee_number": "1001",
        "map-0-expression": "ToLower(",
    }
    shown = page(client_for("admin").post("/connections/ad/step/3/", form))
    assert "Fix the rules marked above, then test again." in shown
    assert "line 1, column" in shown.split('id="map-0-error">')[1].split("</p>")[0]
    assert 'mapping-test">' not in shown


def test_what_an_admin_types_is_escaped_in_the_page(connection: Connection) -> None:
    hostile = '"<script>alert(1)</script>"'
    form = RULES_FORM | {
        "action": "test",
        "employee_number": "1001",
        "map-1-expression": hostile,
        "map-2-attribute": "<img src=x onerror=alert(1)>",
        "map-2-expression": "[title]",
    }
    admin = client_for("admin")
    shown = page(admin.post("/connections/ad/step/3/", form))
    assert "<script>alert(1)" not in shown and "<img src=x" not in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "not an LDAP attribute name" in shown.split('id="map-2-error">')[1]

    saved = RULES_FORM | {"map-1-expression": hostile}
    assert admin.post("/connections/ad/step/3/", saved).status_code == 302
    viewer = client_for("viewer")
    tested = page(viewer.get("/connections/ad/step/3/", {"employee_number": "1001"}))
    assert "<script>alert(1)" not in tested
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in tested.split("<code>description</code>")[-1]


def test_a_blank_rule_row_is_offered_to_admins(connection: Connection) -> None:
    row = page(client_for("admin").get("/connections/ad/rules/rows/?index=3"))
    assert 'name="map-3-attribute"' in row and 'name="map-3-expression"' in row
    assert 'hx-get="/connections/ad/rules/rows/?index=4"' in row
