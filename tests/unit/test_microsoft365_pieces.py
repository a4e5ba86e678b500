"""The pure parts of the Microsoft 365 target: names for new users, the desired user, the
config's checks, Graph bodies by property path, the error taxonomy, and the simulator's
OData filters."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from pydantic import ValidationError

from hrsync.connectors.microsoft365.config import Microsoft365Config
from hrsync.connectors.microsoft365.errors import (
    GraphAccessError,
    GraphConflictError,
    GraphNotFoundError,
    GraphRejectedError,
    GraphUnavailableError,
    translate_failure,
)
from hrsync.connectors.microsoft365.policy import GraphPolicy, login_base, numbered
from hrsync.connectors.microsoft365.profile import MICROSOFT365_PROFILE, PERSON_ID
from hrsync.connectors.microsoft365.target import random_password, read_property, wire_body
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.engine.policy import TakenNames
from hrsync.simulators.graph.odata import parse_filter
from hrsync.simulators.graph.store import GraphError

TODAY = date(2026, 12, 7)
POLICY = GraphPolicy(MICROSOFT365_PROFILE, "contoso.example", usage_location="NL")


def person(given: str, family: str, **changes: object) -> Person:
    base = Person(
        person_id=PersonId("p1"),
        employee_number=EmployeeNumber("4711"),
        given_name=given,
        family_name=family,
        employment=Employment("c1", "Acme BV", "Ekonom", "Vast", date(2020, 1, 1)),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("Åsa", "Öberg", "asa.oberg"),
        ("Jan", "van der Berg", "jan.vanderberg"),
        ("Zoë", "Ødegård", "zoe.odegard"),
        ("*)(uid=*", "\\back slash", "uid.backslash"),
        ("", "", "u4711"),
        ("Anna", "B" * 80, "anna." + "b" * 59),
    ],
)
def test_a_login_base_is_given_dot_family_in_login_characters(
    given: str, family: str, expected: str
) -> None:
    assert login_base(person(given, family)) == expected


def test_numbered_names_stay_within_64_characters() -> None:
    names = numbered("a" * 64)
    assert [next(names) for _ in range(3)] == ["a" * 64, "a" * 63 + "2", "a" * 63 + "3"]


def test_a_new_user_takes_the_first_number_free_for_both_names() -> None:
    taken = TakenNames({"userPrincipalName": {"anna.berg@contoso.example"}})
    taken.of_attribute("mailNickname").add("anna.berg2")
    anna = person("Anna", "Berg")
    new = POLICY.new_account(anna, POLICY.desire(anna, TODAY), "", taken, TODAY)
    assert new.attributes == {
        "userPrincipalName": "anna.berg3@contoso.example",
        "mailNickname": "anna.berg3",
    }
    assert new.ref == "new-user:p1"
    assert taken.is_taken("userPrincipalName", "ANNA.BERG3@contoso.example")


def test_the_desired_user_carries_the_person_id_usage_location_and_cut_values() -> None:
    desired = POLICY.desire(person("Anna", "B" * 70), TODAY)
    assert desired.attributes[PERSON_ID] == "p1"
    assert desired.attributes["usageLocation"] == "NL"
    assert desired.attributes["surname"] == "B" * 64
    assert desired.attributes["employeeId"] == "4711"
    assert desired.attributes["employeeHireDate"] == "2020-01-01T00:00:00Z"
    assert desired.attributes["employeeLeaveDateTime"] is None
    assert "userPrincipalName" not in desired.attributes  # given once, on create


def config(**changes: object) -> Microsoft365Config:
    values: dict[str, object] = {
        "tenant_id": "contoso.onmicrosoft.com",
        "client_id": "app",
        "client_secret": "hush-42",
        "upn_suffix": "contoso.example",
    }
    return Microsoft365Config.model_validate(values | changes)


def test_the_config_defaults_to_the_global_cloud() -> None:
    found = config(usage_location="nl")
    assert found.token_url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert found.graph_url == "https://graph.microsoft.com/v1.0"
    assert found.usage_location == "NL"
    assert "hush-42" not in repr(found) and "hush-42" not in str(found)


@pytest.mark.parametrize(
    "changes",
    [
        {"graph_url": "http://graph.example/v1.0"},
        {"login_url": "ftp://login.example"},
        {"upn_suffix": "not a domain"},
        {"usage_location": "NLD"},
        {"tenant_id": "a/b"},
        {"unknown": 1},
    ],
)
def test_the_config_refuses(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        config(**changes)


def test_http_is_accepted_on_loopback_only() -> None:
    assert config(graph_url="http://127.0.0.1:8092/v1.0/").graph_url == (
        "http://127.0.0.1:8092/v1.0"
    )


def test_bodies_and_properties_by_path() -> None:
    attributes = {"jobTitle": "Chef", f"{PERSON_ID}": "p1", "department": None}
    assert wire_body(attributes, keep_none=True) == {
        "jobTitle": "Chef",
        "onPremisesExtensionAttributes": {"extensionAttribute15": "p1"},
        "department": None,
    }
    assert "department" not in wire_body(attributes, keep_none=False)
    user = {
        "accountEnabled": False,
        "onPremisesExtensionAttributes": {"extensionAttribute15": "p1"},
    }
    assert read_property(user, PERSON_ID) == "p1"
    assert read_property(user, "accountEnabled") == "false"
    assert read_property(user, "missing.path") is None


def test_a_first_password_has_every_character_class() -> None:
    password = random_password()
    assert len(password) == 20
    assert any(c.isupper() for c in password) and any(c.islower() for c in password)
    assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (429, "Too many requests", GraphUnavailableError),
        (504, None, GraphUnavailableError),
        (404, "Resource 'x' does not exist", GraphNotFoundError),
        (403, "Insufficient privileges", GraphAccessError),
        (
            400,
            "Another object with the same value for property userPrincipalName already exists.",
            GraphConflictError,
        ),
        (400, "Invalid value specified for property 'mailNickname'", GraphRejectedError),
    ],
)
def test_failures_are_translated(status: int, message: str | None, kind: type) -> None:
    error = translate_failure("POST /users", status, "Request_BadRequest", message)
    assert isinstance(error, kind)
    assert str(error).startswith(f"POST /users: {status} Request_BadRequest")


USERS = [
    {"id": "1", "employeeId": "7", "mail": "Anna@x.test", "displayName": "Anna O'Neil"},
    {"id": "2", "employeeId": "8", "mail": None, "displayName": "Bo and Eva"},
]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("employeeId eq '7'", ["1"]),
        ("mail eq 'anna@X.TEST'", ["1"]),
        ("employeeId ne '7'", ["2"]),
        ("startswith(displayName,'bo')", ["2"]),
        ("displayName eq 'Anna O''Neil'", ["1"]),
        ("displayName eq 'Bo and Eva'", ["2"]),
        ("employeeId in ('7', '8')", ["1", "2"]),
        ("employeeId eq '7' or employeeId eq '8'", ["1", "2"]),
        ("employeeId eq '7' and mail eq null", []),
    ],
)
def test_simulator_filters(text: str, ids: list[str]) -> None:
    keep = parse_filter(text)
    assert [u["id"] for u in USERS if keep(u)] == ids


@pytest.mark.parametrize("text", ["endswith(mail,'x')", "a eq 'b' and c eq 'd' or e eq 'f'"])
def test_simulator_refuses_filters_graph_would(text: str) -> None:
    with pytest.raises(GraphError) as refused:
        parse_filter(text)
    assert refused.value.code == "Request_UnsupportedQuery"
