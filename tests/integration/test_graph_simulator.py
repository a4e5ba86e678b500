"""The Graph simulator over loopback HTTP: Entra's token endpoint, bearer tokens, users with
$select/$filter/$top and nextLink paging, manager references, delta, $batch with dependsOn,
OData errors, unique names, faults and the `/_sim` control endpoints."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from hrsync.simulators.graph import App, GraphSimulator

APP = App("contoso.onmicrosoft.com", "client-1", "s3cret")
TOKEN_PATH = f"/{APP.tenant}/oauth2/v2.0/token"


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    with GraphSimulator(APP) as simulator:
        yield simulator


def token_answer(sim: GraphSimulator, **form: str) -> httpx2.Response:
    values = {
        "grant_type": "client_credentials",
        "client_id": APP.client_id,
        "client_secret": APP.client_secret,
        "scope": "https://graph.microsoft.com/.default",
    } | form
    return httpx2.post(sim.base_url + TOKEN_PATH, data=values)


@pytest.fixture
def graph(sim: GraphSimulator) -> Iterator[httpx2.Client]:
    token = token_answer(sim).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx2.Client(base_url=sim.graph_url, headers=headers) as client:
        yield client


def new_user(number: int, **properties: Any) -> dict[str, Any]:
    return {
        "accountEnabled": True,
        "displayName": f"User {number}",
        "mailNickname": f"user{number}",
        "userPrincipalName": f"user{number}@contoso.example",
        "passwordProfile": {"password": "Start-123!", "forceChangePasswordNextSignIn": True},
        "employeeId": str(1000 + number),
        **properties,
    }


def create(graph: httpx2.Client, number: int, **properties: Any) -> dict[str, Any]:
    response = graph.post("/users", json=new_user(number, **properties))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_token_endpoint_issues_a_bearer_token(sim: GraphSimulator) -> None:
    body = token_answer(sim).json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert body["access_token"]


@pytest.mark.parametrize(
    ("form", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_id": "nobody"}, 400, "unauthorized_client", 700016),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
    ],
)
def test_a_bad_token_request_gets_entras_error(
    sim: GraphSimulator, form: dict[str, str], status: int, error: str, code: int
) -> None:
    answer = token_answer(sim, **form)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_codes"] == [code]


def test_graph_without_a_valid_token_is_401_invalid_authentication_token(
    sim: GraphSimulator,
) -> None:
    for headers in ({}, {"Authorization": "Bearer made-up"}):
        answer = httpx2.get(sim.graph_url + "/users", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"
        assert set(answer.json()["error"]["innerError"]) >= {"date", "request-id"}


def test_a_user_is_created_read_by_id_and_upn_patched_and_deleted(graph: httpx2.Client) -> None:
    user = create(graph, 1)
    assert "passwordProfile" not in user
    by_upn = graph.get("/users/USER1@contoso.example", params={"$select": "displayName"})
    assert by_upn.json()["id"] == user["id"]
    assert by_upn.json()["displayName"] == "User 1"
    assert graph.patch(f"/users/{user['id']}", json={"jobTitle": "Boss"}).status_code == 204
    assert graph.get(f"/users/{user['id']}").json()["jobTitle"] == "Boss"
    assert graph.delete(f"/users/{user['id']}").status_code == 204
    gone = graph.get(f"/users/{user['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "Request_ResourceNotFound"


@pytest.mark.parametrize("name", ["userPrincipalName", "mailNickname"])
def test_a_taken_unique_name_is_refused(graph: httpx2.Client, name: str) -> None:
    first = create(graph, 1)
    answer = graph.post("/users", json=new_user(2, **{name: first[name].upper()}))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "Request_BadRequest"
    assert answer.json()["error"]["message"] == (
        f"Another object with the same value for property {name} already exists."
    )


def test_a_upn_that_is_another_users_address_is_refused(graph: httpx2.Client) -> None:
    create(graph, 1, mail="anna@contoso.example")
    answer = graph.post("/users", json=new_user(2, userPrincipalName="Anna@contoso.example"))
    assert answer.status_code == 400
    assert "proxyAddresses" in answer.json()["error"]["message"]


def test_a_create_without_a_required_property_is_refused(graph: httpx2.Client) -> None:
    body = new_user(1)
    del body["mailNickname"]
    answer = graph.post("/users", json=body)
    assert answer.status_code == 400
    assert "mailNickname" in answer.json()["error"]["message"]


def test_filters_select_and_pages(graph: httpx2.Client) -> None:
    for number in range(1, 8):
        create(graph, number, mail=f"user{number}@contoso.example")
    eq = graph.get("/users", params={"$filter": "employeeId eq '1003'", "$select": "id,employeeId"})
    assert [u["employeeId"] for u in eq.json()["value"]] == ["1003"]
    assert set(eq.json()["value"][0]) == {"id", "employeeId"}
    by_mail = graph.get("/users", params={"$filter": "mail eq 'USER4@contoso.example'"})
    assert [u["displayName"] for u in by_mail.json()["value"]] == ["User 4"]
    starts = graph.get("/users", params={"$filter": "startswith(displayName,'user 1')"})
    assert len(starts.json()["value"]) == 1
    upn = graph.get("/users", params={"$filter": "userPrincipalName eq 'user2@contoso.example'"})
    assert len(upn.json()["value"]) == 1
    seen, page = [], graph.get("/users", params={"$top": "3", "$select": "id"}).json()
    while True:
        seen += [u["id"] for u in page["value"]]
        if "@odata.nextLink" not in page:
            break
        page = graph.get(page["@odata.nextLink"]).json()
    assert len(seen) == len(set(seen)) == 7


def test_an_unknown_filter_is_unsupported_query(graph: httpx2.Client) -> None:
    answer = graph.get("/users", params={"$filter": "endswith(mail,'x')"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_a_manager_is_set_read_expanded_and_removed(graph: httpx2.Client) -> None:
    boss, report = create(graph, 1), create(graph, 2)
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{boss['id']}"}
    path = f"/users/{report['id']}/manager"
    assert graph.put(path + "/$ref", json=ref).status_code == 204
    assert graph.get(path).json()["id"] == boss["id"]
    assert graph.get(path + "/$ref").json()["@odata.id"].endswith(boss["id"])
    listed = graph.get("/users", params={"$expand": "manager($select=id)", "$select": "id"})
    managers = {u["id"]: u.get("manager", {}).get("id") for u in listed.json()["value"]}
    assert managers == {boss["id"]: None, report["id"]: boss["id"]}
    assert graph.delete(path + "/$ref").status_code == 204
    assert graph.get(path).status_code == 404


def test_delta_lists_everyone_then_only_what_changed(graph: httpx2.Client) -> None:
    users = [create(graph, number) for number in range(1, 4)]
    first = graph.get("/users/delta", params={"$select": "id,jobTitle"}).json()
    assert len(first["value"]) == 3
    delta_link = first["@odata.deltaLink"]
    assert graph.get(delta_link).json()["value"] == []
    graph.patch(f"/users/{users[0]['id']}", json={"jobTitle": "Chef"})
    graph.delete(f"/users/{users[1]['id']}")
    changed = graph.get(delta_link).json()
    assert changed["value"] == [
        {"id": users[0]["id"], "jobTitle": "Chef"},
        {"id": users[1]["id"], "@removed": {"reason": "changed"}},
    ]
    assert graph.get(changed["@odata.deltaLink"]).json()["value"] == []


def test_delta_expands_the_manager_and_reports_its_change(graph: httpx2.Client) -> None:
    boss, report = create(graph, 1), create(graph, 2)
    reference = {"@odata.id": f"{graph.base_url}/directoryObjects/{boss['id']}"}
    graph.put(f"/users/{report['id']}/manager/$ref", json=reference)
    params = {"$select": "id", "$expand": "manager($select=id)"}
    first = graph.get("/users/delta", params=params).json()
    managers = {u["id"]: u["manager@delta"] for u in first["value"]}
    assert [m["id"] for m in managers[report["id"]]] == [boss["id"]]
    assert managers[boss["id"]] == []
    graph.delete(f"/users/{report['id']}/manager/$ref")
    changed = graph.get(first["@odata.deltaLink"]).json()
    assert changed["value"] == [{"id": report["id"], "manager@delta": []}]


def test_an_expired_delta_link_answers_410(sim: GraphSimulator, graph: httpx2.Client) -> None:
    create(graph, 1)
    link = graph.get("/users/delta").json()["@odata.deltaLink"]
    sim.store.expire_delta_links()
    gone = graph.get(link)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "syncStateNotFound"
    fresh = graph.get("/users/delta").json()["@odata.deltaLink"]
    assert graph.get(fresh).status_code == 200


def test_the_organization_names_the_tenant(graph: httpx2.Client) -> None:
    found = graph.get("/organization", params={"$select": "displayName,verifiedDomains"}).json()
    assert found["value"][0].pop("id")  # Graph answers the id whatever is selected
    assert found["value"] == [
        {
            "displayName": "Contoso Ltd",
            "verifiedDomains": [
                {"name": APP.tenant, "isDefault": True, "isInitial": True, "type": "Managed"}
            ],
        }
    ]


def test_a_batch_runs_in_order_and_a_failed_dependency_is_424(graph: httpx2.Client) -> None:
    taken = create(graph, 9)
    requests = [
        {"id": "1", "method": "POST", "url": "/users", "body": new_user(1)},
        {"id": "2", "method": "GET", "url": "/users/user1@contoso.example", "dependsOn": ["1"]},
        {"id": "3", "method": "POST", "url": "/users", "body": new_user(3, mailNickname="user9")},
        {"id": "4", "method": "GET", "url": f"/users/{taken['id']}", "dependsOn": ["3"]},
    ]
    answers = graph.post("/$batch", json={"requests": requests}).json()["responses"]
    assert [(a["id"], a["status"]) for a in answers] == [
        ("1", 201),
        ("2", 200),
        ("3", 400),
        ("4", 424),
    ]
    assert answers[2]["body"]["error"]["code"] == "Request_BadRequest"


def test_a_batch_of_more_than_twenty_is_refused(graph: httpx2.Client) -> None:
    requests = [{"id": str(n), "method": "GET", "url": "/users"} for n in range(21)]
    answer = graph.post("/$batch", json={"requests": requests})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"


def test_throttling_answers_429_with_retry_after_then_recovers(
    sim: GraphSimulator, graph: httpx2.Client
) -> None:
    armed = httpx2.put(
        sim.base_url + "/_sim/faults", json={"status": 429, "retryAfter": 3, "times": 2}
    )
    assert armed.status_code == 200
    for _ in range(2):
        answer = graph.get("/users")
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "3"
        assert answer.json()["error"]["code"] == "TooManyRequests"
    assert graph.get("/users").status_code == 200


def test_a_batch_throttles_its_requests_one_by_one(
    sim: GraphSimulator, graph: httpx2.Client
) -> None:
    httpx2.put(sim.base_url + "/_sim/faults", json={"status": 429, "retryAfter": 1, "times": 1})
    requests = [{"id": str(n), "method": "GET", "url": "/users"} for n in range(3)]
    answers = graph.post("/$batch", json={"requests": requests}).json()["responses"]
    assert [a["status"] for a in answers] == [429, 200, 200]
    assert answers[0]["headers"]["Retry-After"] == "1"


def test_latency_delays_every_request(sim: GraphSimulator, graph: httpx2.Client) -> None:
    httpx2.put(sim.base_url + "/_sim/faults", json={"latencyMs": 150})
    started = time.monotonic()
    graph.get("/users")
    assert time.monotonic() - started >= 0.15


def test_a_just_created_user_is_not_found_for_a_while(
    sim: GraphSimulator, graph: httpx2.Client
) -> None:
    httpx2.put(sim.base_url + "/_sim/faults", json={"consistencyLag": 2})
    user = create(graph, 1)
    statuses = [graph.get(f"/users/{user['id']}").status_code for _ in range(3)]
    assert statuses == [404, 404, 200]


def test_control_lists_and_resets(sim: GraphSimulator, graph: httpx2.Client) -> None:
    create(graph, 1)
    listed = httpx2.get(sim.base_url + "/_sim/users").json()["value"]
    assert [u["userPrincipalName"] for u in listed] == ["user1@contoso.example"]
    assert httpx2.post(sim.base_url + "/_sim/reset").status_code == 204
    assert graph.get("/users").json()["value"] == []


def test_the_command_serves_with_its_options() -> None:
    hrsync = str(Path(sys.executable).with_name("hrsync"))
    options = ["--port", "0", "--tenant", "t.example", "--client-id", "cli", "--latency-ms", "50"]
    process = subprocess.Popen(
        [hrsync, "graph-sim", *options, "--client-secret", "cli-secret"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        login = line.split("login_url=", 1)[1].split(" ", 1)[0]
        form = {"grant_type": "client_credentials", "client_id": "cli"}
        refused = httpx2.post(f"{login}/t.example/oauth2/v2.0/token", data=form)
        assert refused.json()["error"] == "invalid_client"
        form["client_secret"] = "cli-secret"
        token = httpx2.post(f"{login}/t.example/oauth2/v2.0/token", data=form).json()
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        answer = httpx2.get(f"{login}/v1.0/users", headers=headers)
        assert answer.status_code == 200
        assert time.monotonic() - started >= 0.05
    finally:
        process.terminate()
        process.wait(timeout=10)
