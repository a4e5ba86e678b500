"""The REST API of a connection's rules: `GET …/mapping-test` answers what
`hrsync mapping test --json` prints, and `PUT …/steps/mapping` stores the rules as the config
loader does, refusing a broken one with its line and column and storing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from tests.integration.api_data import Dataset, client_for

from hrsync.app.connection_settings.rules import RULE_KEYS
from hrsync.app.connections.mapping_trial import explain_mapping
from hrsync.app.models import AuditEvent, Connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]

MAIL_RULE = 'Join("@", ToLower([given_name]), "corp.example")'
TEST_URL = "/api/connections/ad/mapping-test"
RULES_URL = "/api/connections/ad/steps/mapping"


def put(client: Client, body: dict[str, Any] | None) -> Any:
    payload = json.dumps(body) if body is not None else ""
    return client.put(RULES_URL, data=payload, content_type="application/json")


def rules_of(connection: Connection) -> dict[str, Any]:
    connection.refresh_from_db()
    return {key: connection.settings[key] for key in RULE_KEYS if key in connection.settings}


def test_the_mapping_test_answers_what_the_cli_prints_with_the_override(
    users: dict[str, User], data: Dataset
) -> None:
    data.connection.settings = data.connection.settings | {"mapping": {"mail": MAIL_RULE}}
    data.connection.save()
    response = client_for(users["viewer"]).get(TEST_URL, {"employee_number": "1001"})
    assert response.status_code == 200
    body = response.json()
    assert body == [item.to_json() for item in explain_mapping("ad", "1001")]
    (person,) = body
    assert (person["name"], person["account_name"]) == ("Anna Berg", "Anna Berg")
    assert person["container"] == "OU=Staff,DC=example,DC=org"
    rows = {row["attribute"]: row for row in person["attributes"]}
    assert rows["mail"]["value"] == "anna@corp.example"
    assert (rows["mail"]["source"], rows["mail"]["rule"]) == ("override", MAIL_RULE)
    assert rows["mail"]["fields_read"] == ["given_name"]
    assert (rows["title"]["source"], rows["title"]["value"]) == ("default", "Controller")


def test_the_mapping_test_answers_404_for_an_unknown_person_or_connection(
    users: dict[str, User], data: Dataset
) -> None:
    viewer = client_for(users["viewer"])
    missing = viewer.get(TEST_URL, {"employee_number": "9999"})
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "not_found" and "employee number 9999" in error["message"]
    unknown = viewer.get("/api/connections/nope/mapping-test", {"employee_number": "1001"})
    assert unknown.status_code == 404
    assert viewer.get(TEST_URL).status_code == 422  # the employee number is required
    assert client_for(None).get(TEST_URL, {"employee_number": "1001"}).status_code == 401


def test_rules_are_stored_as_given_and_a_later_put_without_them_keeps_them(
    users: dict[str, User], data: Dataset
) -> None:
    admin = client_for(users["admin"])
    rules = {
        "mapping": {"mail": MAIL_RULE},
        "naming": {"sam": "Left([family_name], 6)"},
        "placement": 'Join("/", "Staff", [company_name])',
        "groups": {"enabled": True, "levels": ["Office"], "ou": "OU=Org"},
        "lifecycle": {"prehire_days": 7},
        "leavers_ou": "OU=Leavers",
        "scope": {"conditions": [{"field": "company", "op": "equals", "value": "Acme"}]},
    }
    response = put(admin, rules)
    assert response.status_code == 200, response.content
    assert response.json()["step"] == 4
    assert rules_of(data.connection) == rules
    assert response.json()["settings"]["mapping"] == {"mail": MAIL_RULE}
    event = AuditEvent.objects.get(action="connection.step_saved")
    assert event.after["settings"]["naming"] == {"sam": "Left([family_name], 6)"}

    assert put(admin, None).status_code == 200  # no body: confirm the stored rules
    assert put(admin, {"lifecycle": None, "naming": {}}).status_code == 200
    assert rules_of(data.connection) == {
        k: v for k, v in rules.items() if k not in ("lifecycle", "naming")
    }


def test_a_broken_rule_answers_422_naming_its_field_and_line_and_column(
    users: dict[str, User], data: Dataset
) -> None:
    response = put(
        client_for(users["admin"]),
        {
            "mapping": {"mail": MAIL_RULE, "description": 'Join(" / ",\n [title]'},
            "lifecycle": {"prehire_days": -1},
            "leavers_ou": "not a DN",
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_values"
    details = error["details"]
    assert details["mapping.description"].startswith("line 2, column")
    assert "mapping.mail" not in details
    assert "greater than or equal to 0" in details["lifecycle.prehire_days"]
    assert "not a distinguished name" in details["leavers_ou"]
    assert rules_of(data.connection) == {}
    assert data.connection.step == 7
    assert not AuditEvent.objects.filter(action="connection.step_saved").exists()


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_change_the_rules(users: dict[str, User], data: Dataset, role: str) -> None:
    response = put(client_for(users[role]), {"mapping": {"mail": MAIL_RULE}})
    assert response.status_code == 403
    assert rules_of(data.connection) == {}
