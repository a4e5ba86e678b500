"""The SCIM test servers (scim2-server and SCIMMY) and the fault proxy, over plain HTTP.

These pin what the SCIM target's tests rely on: discovery lists our schemas, the enterprise and
Winningtemp extensions round-trip, filters, PATCH, groups, the bearer token, and scripted faults.
The two servers' differences are in docs/connectors/scim-test-servers.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.servers import missing_server

from hrsync.testing.fault_proxy import FaultProxy
from hrsync.testing.scim import (
    ENTERPRISE_USER_URN,
    USER_RESOURCE_TYPE,
    WINNINGTEMP_USER_URN,
    ScimServer,
    start_scim2_server,
)

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = "application/scim+json"


@pytest.fixture
def scim(scim_server: ScimServer) -> Iterator[httpx2.Client]:
    """A plain HTTP client on the server's base URL, with its bearer token."""
    with _client(scim_server.url, scim_server.token) as client:
        yield client


def _client(url: str, token: str, timeout: float = 10.0) -> httpx2.Client:
    return httpx2.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON},
        timeout=timeout,
    )


def _user(user_name: str, external_id: str, **extension: Any) -> dict[str, Any]:
    return {
        "schemas": [USER_URN, ENTERPRISE_USER_URN, WINNINGTEMP_USER_URN],
        "userName": user_name,
        "externalId": external_id,
        "name": {"givenName": "Anna", "familyName": "Berg"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
        ENTERPRISE_USER_URN: {"employeeNumber": "1001", "department": "Sales"},
        WINNINGTEMP_USER_URN: {
            "gender": "female",
            "birthday": "1985-04-12",
            "excludeFromSurveys": False,
            **extension,
        },
    }


def _create(client: httpx2.Client, resource: dict[str, Any], endpoint: str = "Users") -> Any:
    response = client.post(endpoint, json=resource)
    assert response.status_code == 201, response.text
    return response.json()


def _patch(client: httpx2.Client, path: str, *operations: dict[str, Any]) -> Any:
    """PATCH, then the resource as a GET reads it (a server may answer 204 without a body)."""
    response = client.patch(path, json={"schemas": [PATCH_URN], "Operations": list(operations)})
    assert response.status_code in {200, 204}, response.text
    return client.get(path).json()


def _listed(client: httpx2.Client, filter_: str, endpoint: str = "Users") -> list[Any]:
    response = client.get(endpoint, params={"filter": filter_})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalResults"] == len(body.get("Resources", []))
    return list(body.get("Resources", []))


# --- discovery ---


def test_service_provider_config_announces_patch_and_filter(scim: httpx2.Client) -> None:
    config = scim.get("ServiceProviderConfig").json()

    assert config["patch"]["supported"] is True
    assert config["filter"]["supported"] is True
    assert any(s["type"] == "oauthbearertoken" for s in config["authenticationSchemes"])


def test_resource_types_put_both_extensions_on_user(scim: httpx2.Client) -> None:
    types = {t["name"]: t for t in scim.get("ResourceTypes").json()["Resources"]}

    assert {"User", "Group"} <= set(types)
    extensions = {e["schema"] for e in types["User"]["schemaExtensions"]}
    assert extensions == {ENTERPRISE_USER_URN, WINNINGTEMP_USER_URN}


def test_schemas_describe_user_group_and_both_extensions(scim: httpx2.Client) -> None:
    schemas = {s["id"]: s for s in scim.get("Schemas").json()["Resources"]}

    assert {USER_URN, GROUP_URN, ENTERPRISE_USER_URN, WINNINGTEMP_USER_URN} <= set(schemas)
    winningtemp = {a["name"]: a for a in schemas[WINNINGTEMP_USER_URN]["attributes"]}
    assert winningtemp["gender"]["canonicalValues"] == ["male", "female"]
    assert winningtemp["birthday"]["type"] == "string"
    assert winningtemp["excludeFromSurveys"]["type"] == "boolean"


# --- users ---


def test_user_with_manager_and_winningtemp_attributes_reads_back(scim: httpx2.Client) -> None:
    manager = _create(scim, _user("boss@example.test", "900"))
    resource = _user("anna.berg@example.test", "1001")
    resource[ENTERPRISE_USER_URN]["manager"] = {"value": manager["id"]}

    created = _create(scim, resource)
    read = scim.get(f"Users/{created['id']}").json()

    assert read["userName"] == "anna.berg@example.test"
    assert read["externalId"] == "1001"
    assert read[ENTERPRISE_USER_URN]["employeeNumber"] == "1001"
    assert read[ENTERPRISE_USER_URN]["manager"]["value"] == manager["id"]
    assert read[WINNINGTEMP_USER_URN] == {
        "gender": "female",
        "birthday": "1985-04-12",
        "excludeFromSurveys": False,
    }
    assert WINNINGTEMP_USER_URN in read["schemas"]


def test_filter_by_external_id_and_user_name(scim: httpx2.Client) -> None:
    anna = _create(scim, _user("anna.berg@example.test", "1001"))
    _create(scim, _user("bo.ek@example.test", "1002"))

    assert [u["id"] for u in _listed(scim, 'externalId eq "1001"')] == [anna["id"]]
    assert [u["id"] for u in _listed(scim, 'userName eq "anna.berg@example.test"')] == [anna["id"]]
    assert _listed(scim, 'externalId eq "4711"') == []


def test_filter_by_email_both_ways(scim: httpx2.Client) -> None:
    anna = _create(scim, _user("anna.berg@example.test", "1001"))
    _create(scim, _user("bo.ek@example.test", "1002"))

    by_path = _listed(scim, 'emails.value eq "anna.berg@example.test"')
    by_value_filter = _listed(scim, 'emails[value eq "anna.berg@example.test"]')

    assert [u["id"] for u in by_path] == [anna["id"]]
    assert [u["id"] for u in by_value_filter] == [anna["id"]]


def test_paging_with_start_index_and_count(scim: httpx2.Client) -> None:
    for number in range(5):
        _create(scim, _user(f"p{number}@example.test", f"{2000 + number}"))

    page = scim.get("Users", params={"startIndex": 3, "count": 2}).json()

    assert page["totalResults"] == 5
    assert page["startIndex"] == 3
    assert len(page["Resources"]) == 2


def test_patch_replaces_a_name_and_an_extension_attribute(scim: httpx2.Client) -> None:
    user = _create(scim, _user("anna.berg@example.test", "1001"))
    path = f"Users/{user['id']}"

    after_name = _patch(scim, path, {"op": "replace", "path": "name.familyName", "value": "Ek"})
    after_extension = _patch(
        scim,
        path,
        {"op": "replace", "path": f"{WINNINGTEMP_USER_URN}:excludeFromSurveys", "value": True},
    )

    assert after_name["name"]["familyName"] == "Ek"
    assert after_extension[WINNINGTEMP_USER_URN]["excludeFromSurveys"] is True
    assert after_extension[WINNINGTEMP_USER_URN]["gender"] == "female"


def test_delete_removes_the_user(scim: httpx2.Client) -> None:
    user = _create(scim, _user("anna.berg@example.test", "1001"))

    assert scim.delete(f"Users/{user['id']}").status_code == 204
    assert scim.get(f"Users/{user['id']}").status_code == 404


def test_filter_by_extension_attribute(scim: httpx2.Client) -> None:
    anna = _create(scim, _user("anna.berg@example.test", "1001"))
    _create(scim, _user("bo.ek@example.test", "1002", gender="male"))

    found = _listed(scim, f'{WINNINGTEMP_USER_URN}:gender eq "female"')

    assert [u["id"] for u in found] == [anna["id"]]


# --- groups ---


def test_group_members_added_by_patch(scim: httpx2.Client) -> None:
    anna = _create(scim, _user("anna.berg@example.test", "1001"))
    bo = _create(scim, _user("bo.ek@example.test", "1002"))
    group = _create(scim, {"schemas": [GROUP_URN], "displayName": "Sales"}, "Groups")

    read = _patch(
        scim,
        f"Groups/{group['id']}",
        {"op": "add", "path": "members", "value": [{"value": anna["id"]}, {"value": bo["id"]}]},
    )

    assert {m["value"] for m in read["members"]} == {anna["id"], bo["id"]}
    assert [g["id"] for g in _listed(scim, 'displayName eq "Sales"', "Groups")] == [group["id"]]


# --- scim2-server with schemas of a test's own ---


def test_scim2_server_serves_extra_schemas_and_resource_types(tmp_path: Path) -> None:
    if find_spec("scim2_server") is None:
        missing_server("scim2-server is not installed")
    urn = "urn:example:params:scim:schemas:extension:desk:2.0:User"
    schema = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": urn,
        "name": "DeskUser",
        "attributes": [{"name": "desk", "type": "string", "multiValued": False}],
    }
    user_type = json.loads(USER_RESOURCE_TYPE.read_text())
    user_type["schemaExtensions"] = [{"schema": urn, "required": False}]
    (tmp_path / "desk.json").write_text(json.dumps([schema]))
    (tmp_path / "user.json").write_text(json.dumps(user_type))

    with (
        start_scim2_server(
            token="other",
            extra_schemas=[tmp_path / "desk.json"],
            extra_resource_types=[tmp_path / "user.json"],
        ) as server,
        _client(server.url, "other") as client,
    ):
        types = client.get("ResourceTypes").json()["Resources"]
        created = _create(
            client, {"schemas": [USER_URN, urn], "userName": "a", urn: {"desk": "4B"}}
        )

    user = next(t for t in types if t["name"] == "User")
    assert [e["schema"] for e in user["schemaExtensions"]] == [urn]
    assert created[urn] == {"desk": "4B"}


# --- authentication ---


def test_bearer_token_is_required(scim_server: ScimServer) -> None:
    without = httpx2.get(scim_server.url + "Users", timeout=10)
    wrong = httpx2.get(
        scim_server.url + "Users", headers={"Authorization": "Bearer nope"}, timeout=10
    )

    assert without.status_code == 401
    assert wrong.status_code == 401


# --- the fault proxy ---


def test_proxy_answers_scripted_429s_then_passes_through(
    scim_server: ScimServer, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    proxy = fault_proxy(scim_server.url)
    proxy.fail_next(2, status=429, retry_after="1")

    with _client(proxy.url, scim_server.token) as client:
        answers = [client.get("Users") for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "1"
    assert answers[2].json()["totalResults"] == 0
    assert [(r.method, r.status, r.fault) for r in proxy.requests] == [
        ("GET", 429, "fail"),
        ("GET", 429, "fail"),
        ("GET", 200, None),
    ]


def test_proxy_forwards_body_and_query_and_fails_only_matching_requests(
    scim_server: ScimServer, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    proxy = fault_proxy(scim_server.url)
    proxy.fail_next(1, status=503, method="POST", path_prefix=_path(proxy.url, "Users"))

    with _client(proxy.url, scim_server.token) as client:
        listed = client.get("Users", params={"filter": 'userName eq "x@example.test"'})
        refused = client.post("Users", json=_user("x@example.test", "1"))
        created = client.post("Users", json=_user("x@example.test", "1"))
        found = client.get("Users", params={"filter": 'userName eq "x@example.test"'})

    assert (listed.status_code, refused.status_code, created.status_code) == (200, 503, 201)
    assert found.json()["Resources"][0]["id"] == created.json()["id"]
    assert [r.status for r in proxy.requests] == [200, 503, 201, 200]
    assert proxy.requests[0].path.endswith("Users?filter=userName+eq+%22x%40example.test%22")


def test_a_delayed_request_times_a_short_timeout_client_out(
    scim_server: ScimServer, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    proxy = fault_proxy(scim_server.url)
    proxy.delay_next(1, 1.0)

    with _client(proxy.url, scim_server.token, timeout=0.2) as client:
        with pytest.raises(httpx2.TimeoutException):
            client.get("Users")
        after = client.get("Users")

    assert after.status_code == 200
    logged = proxy.wait_for_requests(2)
    assert sorted((r.status, r.fault or "") for r in logged) == [(200, ""), (200, "delay")]


def test_proxy_reset_forgets_faults_and_log(
    scim_server: ScimServer, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    proxy = fault_proxy(scim_server.url)
    proxy.fail_next(5, status=503)
    with _client(proxy.url, scim_server.token) as client:
        assert client.get("Users").status_code == 503
        proxy.reset()
        assert client.get("Users").status_code == 200

    assert [r.status for r in proxy.requests] == [200]


def _path(url: str, relative: str) -> str:
    return httpx2.URL(url).join(relative).raw_path.decode()
