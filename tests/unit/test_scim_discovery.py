"""Discovery parsing on documents recorded from real servers, and on services that omit parts.

The recordings in scim_recordings/ were captured from scim2-server 0.8.3: its defaults, and its
run with tests/integration/scim_quirks/ (a Winningtemp-like extension, no PATCH, no bulk).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hrsync.connectors.scim.discovery import (
    GROUP_URN,
    USER_URN,
    ServiceInfo,
    parse_service_info,
)
from hrsync.connectors.scim.patch import ENTERPRISE_USER_URN

RECORDINGS = Path(__file__).parent / "scim_recordings"
WINNINGTEMP_URN = "urn:ietf:params:scim:schemas:extension:winningtemp:2.0:User"


def recorded(server: str) -> tuple[Any, Any, Any]:
    return tuple(  # type: ignore[return-value]
        json.loads((RECORDINGS / f"{server}.{doc}.json").read_text())
        for doc in ("ServiceProviderConfig", "ResourceTypes", "Schemas")
    )


def discovered(server: str) -> ServiceInfo:
    return parse_service_info(*recorded(server))


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (
            "scim2-server",
            {
                "supports_patch": True,
                "supports_filter": True,
                "filter_max_results": 1000,
                "supports_bulk": True,
                "bulk_max_operations": 1000,
                "bulk_max_payload_size": 1048576,
                "supports_etag": True,
                "supports_sort": True,
                "supports_change_password": True,
                "authentication_schemes": ("oauthbearertoken",),
                "user_endpoint": "/Users",
                "group_endpoint": "/Groups",
                "user_extensions": (ENTERPRISE_USER_URN,),
                "custom_user_extensions": (),
                "notes": (),
            },
        ),
        (
            "scim2-server-winningtemp-nopatch",
            {
                "supports_patch": False,
                "filter_max_results": 50,
                "supports_bulk": False,
                "bulk_max_operations": None,
                "supports_etag": False,
                "user_extensions": (ENTERPRISE_USER_URN, WINNINGTEMP_URN),
                "custom_user_extensions": (WINNINGTEMP_URN,),
                "has_enterprise_extension": True,
                "notes": (),
            },
        ),
    ],
)
def test_capabilities_and_endpoints(server: str, expected: dict[str, Any]) -> None:
    info = discovered(server)

    assert {key: getattr(info, key) for key in expected} == expected


@pytest.mark.parametrize(
    ("path", "name", "facts"),
    [
        ("userName", "userName", {"required": True, "uniqueness": "server"}),
        ("name.givenName", "givenName", {"type": "string", "multi_valued": False}),
        ('emails[type eq "work"].value', "value", {"type": "string"}),
        ("emails", "emails", {"type": "complex", "multi_valued": True}),
        ("id", "id", {"mutability": "readOnly", "case_exact": True}),  # RFC 7643 §3.1
        ("externalId", "externalId", {"case_exact": True}),
        ("groups", "groups", {"mutability": "readOnly", "multi_valued": True}),
        (f"{ENTERPRISE_USER_URN}:manager", "manager", {"type": "complex"}),
        (f"{ENTERPRISE_USER_URN}:manager.value", "value", {"type": "string"}),
        (f"{ENTERPRISE_USER_URN}:employeeNumber", "employeeNumber", {"type": "string"}),
        (f"{WINNINGTEMP_URN}:gender", "gender", {"type": "string"}),
        (f"{WINNINGTEMP_URN}:hireDate", "hireDate", {"type": "dateTime"}),
        ("USERNAME", "userName", {}),  # attribute names are case-insensitive (RFC 7643 §2.1)
    ],
)
def test_attribute_definitions_label_paths(path: str, name: str, facts: dict[str, Any]) -> None:
    definition = discovered("scim2-server-winningtemp-nopatch").user_attribute(path)

    assert definition is not None
    assert definition.name == name
    assert {key: getattr(definition, key) for key in facts} == facts


def test_complex_attributes_carry_their_sub_attributes() -> None:
    emails = discovered("scim2-server").user_attribute("emails")

    assert emails is not None
    assert {sub.name for sub in emails.sub_attributes} >= {"value", "type", "primary", "display"}
    email_type = emails.sub_attribute("type")
    assert email_type is not None
    assert email_type.canonical_values == ("work", "home", "other")


@pytest.mark.parametrize(
    "path", ["nosuch", "name.nosuch", f"{WINNINGTEMP_URN}:gender", "urn:x:y:nosuch"]
)
def test_unknown_paths_have_no_definition(path: str) -> None:
    # The plain scim2-server declares no Winningtemp extension.
    assert discovered("scim2-server").user_attribute(path) is None


def test_without_schemas_the_core_schemas_are_assumed() -> None:
    config, resource_types, _ = recorded("scim2-server-winningtemp-nopatch")

    info = parse_service_info(config, resource_types, None)

    assert {schema.id for schema in info.schemas} == {USER_URN, GROUP_URN, ENTERPRISE_USER_URN}
    assert info.user_attribute("name.familyName") is not None
    assert info.user_attribute(f"{ENTERPRISE_USER_URN}:department") is not None
    assert info.user_attribute(f"{WINNINGTEMP_URN}:gender") is None
    assert any("no /Schemas" in note for note in info.notes)
    assert any(WINNINGTEMP_URN in note and "not described" in note for note in info.notes)


def test_without_resource_types_users_and_groups_are_assumed() -> None:
    config, _, schemas = recorded("scim2-server")

    info = parse_service_info(config, None, schemas, notes=["GET /ResourceTypes answered 404"])

    assert (info.user_endpoint, info.group_endpoint) == ("/Users", "/Groups")
    assert info.has_enterprise_extension
    assert info.notes[0] == "GET /ResourceTypes answered 404"
    assert any("no /ResourceTypes" in note for note in info.notes)


def test_without_a_service_provider_config_updates_are_put() -> None:
    info = parse_service_info(None, None, None)

    assert not info.supports_patch
    assert info.supports_filter
    assert not info.supports_bulk
    assert len(info.notes) == 3


def test_a_service_without_groups() -> None:
    config, resource_types, schemas = recorded("scim2-server")
    users_only = {**resource_types, "Resources": resource_types["Resources"][:1]}

    info = parse_service_info(config, users_only, schemas)

    assert not info.has_groups
    assert any("no Group" in note for note in info.notes)


def test_lenient_shapes_bare_lists_other_casing_and_missing_sections() -> None:
    config = {"PATCH": {"Supported": True}, "filter": {"supported": True, "maxResults": 0}}
    resource_types = [
        {"Schema": USER_URN, "Endpoint": "people", "SchemaExtensions": [
            {"schema": ENTERPRISE_USER_URN, "required": True}
        ]}
    ]  # fmt: skip

    info = parse_service_info(config, resource_types, [])

    assert info.supports_patch
    assert info.filter_max_results is None  # 0 is no limit at all, not a limit of nothing
    assert info.user_endpoint == "/people"
    assert info.required_user_extensions == (ENTERPRISE_USER_URN,)
    assert any("omits bulk" in note for note in info.notes)
