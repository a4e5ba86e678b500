"""The Flex HRM simulator over loopback HTTP: dialects, auth, scope, paging, modifiedSince,
organisation dimensions, faults, ProblemDetails and the `/_sim` control endpoints."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from hrsync.simulators.flexhrm import Credentials, Faults, FlexSimulator, generate_dataset

DATASET = generate_dataset(count=130, seed=3)
USER = Credentials(instance="acme", username="api", password="secret")
BASIC = "Basic " + base64.b64encode(b"acme:api:secret").decode()
COMPANY_1, COMPANY_2, COMPANY_3 = (c["id"] for c in DATASET["companies"])


@pytest.fixture
def sim() -> Iterator[FlexSimulator]:
    with FlexSimulator(DATASET, credentials=USER, host="127.0.0.1", port=0) as simulator:
        yield simulator


@pytest.fixture
def api(sim: FlexSimulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sim.url, headers={"Authorization": BASIC}) as client:
        yield client


def read_all(client: httpx2.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for index in range(1000):
        response = client.get(path, params={**params, "pageIndex": index})
        response.raise_for_status()
        if not response.json():
            return found
        found += response.json()
    raise AssertionError("paging never ended")


def pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: pascal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [pascal(item) for item in value]
    return value


def assert_problem(response: httpx2.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["traceId"].startswith("00-")
    return body


def test_both_dialects_serve_the_same_data_in_their_own_casing(
    sim: FlexSimulator, api: httpx2.Client
) -> None:
    employee_id = DATASET["employees"][40]["id"]
    for path in (
        "employees",
        f"employees/{employee_id}",
        f"employees/{employee_id}/employmentperiods",
    ):
        camel = api.get(path, params={"pageSize": 50}).json()
        legacy = api.get(sim.legacy_url + path, params={"PageSize": 50}).json()
        assert legacy == pascal(camel)
        assert camel != legacy
    single = api.get(f"employees/{employee_id}").json()
    assert {"id", "firstName", "emailWork", "immediateManagerEmployeeId"} <= set(single)
    assert single["employment"] == DATASET["employees"][40]["employment"]
    assert not {"modified", "employmentPeriods", "organization"} & set(single)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": BASIC},
        {"Authorization": "Basic acme:api:secret"},
        {"Authorization": BASIC, "Instance": "acme"},
        {"Authorization": "basic   acme:api:secret", "Instance": "acme"},
    ],
)
def test_base64_and_raw_credentials_are_accepted(
    sim: FlexSimulator, headers: dict[str, str]
) -> None:
    response = httpx2.get(sim.url + "companies", headers=headers)
    assert response.status_code == 200
    assert [c["companyNumber"] for c in response.json()] == [1, 2, 3]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"acme:api:wrong").decode()},
        {"Authorization": "Basic acme:api:wrong"},
        {"Authorization": "Basic " + base64.b64encode(b"api:secret").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"other:api:secret").decode()},
        {"Authorization": BASIC, "Instance": "other"},
        {"Authorization": "Bearer acme:api:secret"},
    ],
)
def test_wrong_or_missing_credentials_get_401(sim: FlexSimulator, headers: dict[str, str]) -> None:
    response = httpx2.get(sim.url + "employees", headers=headers)
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["www-authenticate"].startswith("Basic")


def test_a_company_outside_the_users_scope_is_forbidden() -> None:
    scoped = Credentials("acme", "api", "secret", company_ids=frozenset({COMPANY_2}))
    outsider = next(e for e in DATASET["employees"] if e["companyId"] == COMPANY_1)
    with (
        FlexSimulator(DATASET, credentials=scoped) as sim,
        httpx2.Client(base_url=sim.url, headers={"Authorization": BASIC}) as client,
    ):
        visible = read_all(client, "employees")
        assert {e["companyId"] for e in visible} == {COMPANY_2}
        assert [c["id"] for c in client.get("companies").json()] == [COMPANY_2]
        for path, params in [
            ("employees", {"companyId": COMPANY_1}),
            ("employees", {"companynumber": 3}),
            (f"companies/{COMPANY_1}", {}),
            (f"employees/{outsider['id']}", {}),
            (f"employees/{outsider['id']}/employmentperiods", {}),
            (f"companies/{COMPANY_3}/accountdistributions", {}),
        ]:
            assert_problem(client.get(path, params=params), 403)


@pytest.mark.parametrize("page_size", [1, 7, 20, 500])
def test_paging_returns_every_employee_exactly_once_in_a_stable_order(
    api: httpx2.Client, page_size: int
) -> None:
    seen = read_all(api, "employees", pageSize=page_size)
    assert sorted(e["id"] for e in seen) == sorted(e["id"] for e in DATASET["employees"])
    numbers = {c["id"]: c["companyNumber"] for c in DATASET["companies"]}
    keys = [(numbers[e["companyId"]], int(e["employment"][0]["employmentNumber"])) for e in seen]
    assert keys == sorted(keys)


def test_without_page_parameters_the_first_twenty_come_back(api: httpx2.Client) -> None:
    assert api.get("employees").json() == api.get("employees", params={"pageSize": 20}).json()
    assert len(api.get("employees").json()) == 20
    assert api.get("employees", params={"pageIndex": 99}).json() == []


def test_an_enveloped_list_carries_the_total_count() -> None:
    with FlexSimulator(DATASET, credentials=USER, envelope=True) as sim:
        body = httpx2.get(
            sim.legacy_url + "employees",
            params={"companyId": COMPANY_3, "pageSize": 5},
            headers={"Authorization": BASIC},
        ).json()
    in_company = [e for e in DATASET["employees"] if e["companyId"] == COMPANY_3]
    assert set(body) == {"Items", "TotalCount"}
    assert body["TotalCount"] == len(in_company)
    assert len(body["Items"]) == 5


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"companynumber": "2"}, lambda e: e["companyId"] == COMPANY_2),
        ({"companyId": COMPANY_3}, lambda e: e["companyId"] == COMPANY_3),
        ({"email": "ASA.OBERG@acme.example"}, lambda e: e["emailWork"] == "asa.oberg@acme.example"),
        (
            {"companyId": COMPANY_1, "employmentnumber": "1002"},
            lambda e: (
                e["companyId"] == COMPANY_1 and e["employment"][0]["employmentNumber"] == "1002"
            ),
        ),
    ],
)
def test_filters_select_the_matching_employees(
    api: httpx2.Client, params: dict[str, str], expected: Any
) -> None:
    found = {e["id"] for e in read_all(api, "employees", **params)}
    wanted = {e["id"] for e in DATASET["employees"] if expected(e)}
    assert found == wanted
    assert found


def test_modified_since_after_a_patch_returns_exactly_the_patched_employee(
    sim: FlexSimulator, api: httpx2.Client
) -> None:
    chosen = DATASET["employees"][33]["id"]
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    patched = httpx2.patch(f"{sim.url[:-4]}/_sim/employees/{chosen}", json={"lastName": "Ny"})
    assert patched.status_code == 200
    assert patched.json()["lastName"] == "Ny"
    assert patched.json()["modified"] >= since
    for stamp in (since, since + "Z", since + ".000"):
        changed = read_all(api, "employees", modifiedSince=stamp)
        assert [(e["id"], e["lastName"]) for e in changed] == [(chosen, "Ny")]
    assert api.get("employees", params={"modifiedSince": "2000-01-01"}).json()


def test_a_patch_can_move_someone_and_the_period_shows_the_new_placement(
    sim: FlexSimulator, api: httpx2.Client
) -> None:
    employee = next(e for e in DATASET["employees"] if "Team" in e["organization"])
    org = {"Office": "Kiruna", "Department": employee["organization"]["Department"]}
    sim.patch_employee(employee["id"], {"organization": {**org, "Team": None}})
    assert sim.employee(employee["id"])["organization"] == org  # type: ignore[index]
    period = api.get(f"employees/{employee['id']}/employmentperiods").json()[-1]
    distributions = api.get(f"companies/{employee['companyId']}/accountdistributions").json()
    names = {}
    for distribution in distributions:
        for account in read_all(api, f"accountdistributions/{distribution['id']}/accounts"):
            names[account["id"]] = (distribution["name"], account["name"])
    assert [names[a["accountId"]] for a in period["accounts"]] == list(org.items())
    assert [(d["name"], d["level"]) for d in distributions] == [
        ("Office", 1),
        ("Department", 2),
        ("Team", 3),
    ]


def test_periods_have_the_api_shape(api: httpx2.Client) -> None:
    employee = DATASET["employees"][50]
    periods = api.get(f"employees/{employee['id']}/employmentperiods").json()
    assert [p["id"] for p in periods] == [p["id"] for p in employee["employmentPeriods"]]
    for period in periods:
        assert period["employeeId"] == employee["id"]
        assert period["companyId"] == employee["companyId"]
        assert period["fromDate"].endswith("T00:00:00")
        assert period["salaryType"] == 0
        assert len(period["accounts"]) == len(employee["organization"])


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("employees", {"pageSize": 501}, 400),
        ("employees", {"pageSize": 0}, 400),
        ("employees", {"pageIndex": -1}, 400),
        ("employees", {"companyId": "not-a-guid"}, 400),
        ("employees", {"modifiedSince": "yesterday"}, 400),
        ("employmenttitles", {"active": "maybe"}, 400),
        ("employees/8d7e3f9a-0000-4000-8000-000000000000", {}, 404),
        ("accountdistributions/8d7e3f9a-0000-4000-8000-000000000000/accounts", {}, 404),
        ("nowhere", {}, 404),
    ],
)
def test_errors_are_problem_details(
    api: httpx2.Client, path: str, params: dict[str, Any], status: int
) -> None:
    body = assert_problem(api.get(path, params=params), status)
    assert ("errors" in body) == (status == 400)


def test_titles_and_types_are_listed_per_company(api: httpx2.Client) -> None:
    titles = read_all(api, "employmenttitles", companyId=COMPANY_2)
    assert {t["companyId"] for t in titles} == {COMPANY_2}
    assert any(not t["active"] for t in titles)
    assert all(t["active"] for t in read_all(api, "employmenttitles", active="true"))
    types = {t["name"] for t in read_all(api, "employmenttypes", companyId=COMPANY_2)}
    assert {"Tillsvidareanställning", "Visstidsanställning", "External Personnel"} <= types


def test_faults_answer_the_status_with_retry_after_then_recover(
    sim: FlexSimulator, api: httpx2.Client
) -> None:
    sim.faults = Faults(status=503, retry_after=7, times=2)
    for _ in range(2):
        response = api.get("companies")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "7"
    assert api.get("companies").status_code == 200


def test_faults_can_be_armed_over_http(sim: FlexSimulator, api: httpx2.Client) -> None:
    control = sim.url[:-4] + "/_sim/faults"
    armed = httpx2.put(control, json={"status": 429, "retryAfter": 3, "times": 1})
    assert armed.status_code == 200
    assert armed.json()["status"] == 429
    response = api.get("employees")
    assert (response.status_code, response.headers["retry-after"]) == (429, "3")
    assert api.get("employees").status_code == 200
    httpx2.put(control, json={"status": 503, "times": 5})
    assert httpx2.delete(control).status_code == 204
    assert api.get("employees").status_code == 200
    assert_problem(httpx2.put(control, json={"status": "soon"}), 400)


def test_a_broken_page_fails_once_and_then_reads(sim: FlexSimulator, api: httpx2.Client) -> None:
    sim.faults = Faults(broken_page=1)
    assert api.get("employees", params={"pageIndex": 0}).status_code == 200
    broken = api.get("employees", params={"pageIndex": 1})
    assert broken.status_code == 500
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    again = api.get("employees", params={"pageIndex": 1})
    assert again.status_code == 200
    assert len(again.json()) == 20


def test_slow_answers_are_delayed(sim: FlexSimulator, api: httpx2.Client) -> None:
    sim.faults = Faults(slow_seconds=0.3)
    started = time.monotonic()
    assert api.get("companies").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_control_adds_an_employee_the_api_then_serves(
    sim: FlexSimulator, api: httpx2.Client
) -> None:
    template = DATASET["employees"][60]
    new = {k: v for k, v in template.items() if k not in ("id", "modified", "employmentPeriods")}
    new |= {"firstName": "Östen", "employment": [{"employmentNumber": "990001"}]}
    created = httpx2.post(sim.url[:-4] + "/_sim/employees", json=new)
    assert created.status_code == 201
    employee_id = created.json()["id"]
    assert api.get(f"employees/{employee_id}").json()["firstName"] == "Östen"
    duplicate = httpx2.post(sim.url[:-4] + "/_sim/employees", json=new)
    assert "990001" in assert_problem(duplicate, 400)["errors"]["employee"][0]
    assert (
        httpx2.get(sim.url[:-4] + "/_sim/health").json()["employees"]
        == len(DATASET["employees"]) + 1
    )


def test_control_refuses_unknown_employees_and_bad_patches(sim: FlexSimulator) -> None:
    base = sim.url[:-4] + "/_sim/employees/"
    unknown = "8d7e3f9a-0000-4000-8000-000000000000"
    assert_problem(httpx2.patch(base + unknown, json={"lastName": "X"}), 404)
    chosen = DATASET["employees"][5]["id"]
    assert_problem(httpx2.patch(base + chosen, json={"id": unknown}), 400)
    assert_problem(httpx2.patch(base + chosen, content=b"{not json"), 400)
    assert sim.employee(chosen) == {**DATASET["employees"][5]}


def test_stop_closes_kept_alive_connections() -> None:
    sim = FlexSimulator(DATASET, credentials=USER)
    sim.start()
    with httpx2.Client(base_url=sim.url, headers={"Authorization": BASIC}) as client:
        assert client.get("companies").status_code == 200
        sim.stop()
        with pytest.raises(httpx2.TransportError):
            client.get("companies")
