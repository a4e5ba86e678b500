"""The AFAS simulator over loopback HTTP: the token, paging, ordering, filters, metainfo, the
`/_sim` control endpoints and injected faults."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from hrsync.simulators.afas import (
    EMPLOYMENTS,
    MODIFIED,
    ORGANIZATIONAL_UNITS,
    USERS,
    AfasSimulator,
    DatasetError,
    Token,
    afas_authorization,
    generate_dataset,
    load_dataset,
)

COUNT = 120
DATASET = generate_dataset(count=COUNT, seed=11)
AUTH = {"Authorization": afas_authorization("good-token")}


@pytest.fixture
def sim() -> Iterator[AfasSimulator]:
    tokens = (Token("good-token"), Token("users-only", frozenset({USERS})))
    with AfasSimulator(DATASET, tokens) as simulator:
        yield simulator


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10) as client:
        yield client


def get_rows(
    http: httpx2.Client, sim: AfasSimulator, connector: str, **params: Any
) -> list[dict[str, Any]]:
    response = http.get(f"{sim.url}/connectors/{connector}", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"skip", "take", "rows"}
    rows: list[dict[str, Any]] = body["rows"]
    return rows


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer good-token",
        "AfasToken " + base64.b64encode(b"good-token").decode(),  # the data without the XML
        afas_authorization("wrong-token"),
        "AfasToken not-base64!",
    ],
)
def test_a_missing_or_wrong_token_is_refused_with_401(
    sim: AfasSimulator, http: httpx2.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = http.get(f"{sim.url}/connectors/{USERS}", headers=headers)
    assert response.status_code == 401
    assert "token" in response.json()["externalMessage"].lower()


def test_the_xml_token_may_be_formatted_and_the_mount_is_case_insensitive(
    sim: AfasSimulator, http: httpx2.Client
) -> None:
    xml = "<token>\n  <version>1</version>\n  <data>good-token</data>\n</token>"
    headers = {"Authorization": "AfasToken " + base64.b64encode(xml.encode()).decode()}
    url = sim.url.replace("ProfitRestServices", "profitrestservices")
    response = http.get(f"{url}/connectors/{USERS}", params={"take": 1}, headers=headers)
    assert response.status_code == 200
    assert len(response.json()["rows"]) == 1


def test_take_defaults_to_100_and_skip_take_pages_without_overlap(
    sim: AfasSimulator, http: httpx2.Client
) -> None:
    assert len(get_rows(http, sim, USERS)) == 100
    pages = [
        get_rows(http, sim, USERS, skip=skip, take=50, orderbyfieldids="Medewerker")
        for skip in (0, 50, 100)
    ]
    assert [len(page) for page in pages] == [50, 50, 20]
    numbers = [row["Medewerker"] for page in pages for row in page]
    assert numbers == sorted({u["Medewerker"] for u in DATASET["connectors"][USERS]})
    assert get_rows(http, sim, USERS, skip=COUNT, take=50) == []
    assert len(get_rows(http, sim, USERS, skip=-1, take=-1)) == COUNT


def test_orderbyfieldids_sorts_stably_and_a_minus_sorts_descending(
    sim: AfasSimulator, http: httpx2.Client
) -> None:
    rows = get_rows(http, sim, EMPLOYMENTS, take=-1, orderbyfieldids="-Begindatum,ExternalID")
    starts = [row["Begindatum"] for row in rows]
    assert starts == sorted(starts, reverse=True)
    by_unit = get_rows(
        http, sim, EMPLOYMENTS, take=-1, orderbyfieldids="Organisatorische_eenheid_code"
    )
    original = [r["ExternalID"] for r in DATASET["connectors"][EMPLOYMENTS]]
    for unit in {r["Organisatorische_eenheid_code"] for r in by_unit}:
        ids = [r["ExternalID"] for r in by_unit if r["Organisatorische_eenheid_code"] == unit]
        assert ids == [i for i in original if i in set(ids)]  # ties keep the dataset order


def test_an_unknown_field_is_refused_with_400(sim: AfasSimulator, http: httpx2.Client) -> None:
    response = http.get(
        f"{sim.url}/connectors/{USERS}", params={"orderbyfieldids": "Nope"}, headers=AUTH
    )
    assert response.status_code == 400
    assert "Nope" in response.json()["externalMessage"]


def _filtered(
    http: httpx2.Client, sim: AfasSimulator, connector: str, field: str, value: str, op: int
) -> list[dict[str, Any]]:
    params = {"filterfieldids": field, "filtervalues": value, "operatortypes": str(op), "take": -1}
    return get_rows(http, sim, connector, **params)


def test_the_filter_operators(sim: AfasSimulator, http: httpx2.Client) -> None:
    users = DATASET["connectors"][USERS]
    jobs = DATASET["connectors"][EMPLOYMENTS]
    pivot = "2024-01-01T00:00:00"
    numbers = lambda rows: sorted(r["Medewerker"] for r in rows)  # noqa: E731
    assert numbers(_filtered(http, sim, USERS, "Medewerker", "10007", 1)) == ["10007"]
    later = numbers(_filtered(http, sim, USERS, MODIFIED, pivot, 2))
    assert later == numbers(u for u in users if u[MODIFIED] >= pivot)
    assert numbers(_filtered(http, sim, USERS, MODIFIED, pivot, 5)) == numbers(
        u for u in users if u[MODIFIED] < pivot
    )
    assert len(_filtered(http, sim, USERS, "Medewerker", "10007", 7)) == COUNT - 1
    with_van = _filtered(http, sim, USERS, "Voorvoegsel", "VAN", 6)  # contains, any case
    assert with_van and all("van" in r["Voorvoegsel"] for r in with_van)
    ended = _filtered(http, sim, EMPLOYMENTS, "Einddatum", "", 9)
    open_ended = _filtered(http, sim, EMPLOYMENTS, "Einddatum", "", 8)
    assert len(ended) + len(open_ended) == len(jobs)
    assert all(r["Einddatum"] for r in ended) and not any(r["Einddatum"] for r in open_ended)
    assert len(_filtered(http, sim, EMPLOYMENTS, "Begindatum", "2099-01-01", 4)) == 0
    assert len(_filtered(http, sim, EMPLOYMENTS, "Begindatum", "2099-01-01", 3)) == len(jobs)


def test_commas_and_all_hold_while_semicolons_are_alternatives(
    sim: AfasSimulator, http: httpx2.Client
) -> None:
    both = get_rows(
        http, sim, USERS,
        filterfieldids="Medewerker,Naamgebruik_code", filtervalues="10003,9",
        operatortypes="1,1",
    )  # fmt: skip
    either = get_rows(
        http, sim, USERS,
        filterfieldids="Medewerker;Medewerker", filtervalues="10003;10004",
        operatortypes="1;1", orderbyfieldids="Medewerker",
    )  # fmt: skip
    assert both == []
    assert [r["Medewerker"] for r in either] == ["10003", "10004"]


def test_metainfo_lists_only_the_connectors_the_token_may_use(
    sim: AfasSimulator, http: httpx2.Client
) -> None:
    everything = http.get(f"{sim.url}/metainfo", headers=AUTH).json()
    assert [c["id"] for c in everything["getConnectors"]] == [
        USERS,
        EMPLOYMENTS,
        ORGANIZATIONAL_UNITS,
    ]
    limited = {"Authorization": afas_authorization("users-only")}
    assert [c["id"] for c in http.get(f"{sim.url}/metainfo", headers=limited).json()[
        "getConnectors"
    ]] == [USERS]  # fmt: skip
    denied = http.get(f"{sim.url}/connectors/{EMPLOYMENTS}", headers=limited)
    assert denied.status_code == 403
    assert http.get(f"{sim.url}/connectors/Nope", headers=AUTH).status_code == 404


def test_metainfo_of_a_connector_describes_its_fields(
    sim: AfasSimulator, http: httpx2.Client
) -> None:
    body = http.get(f"{sim.url}/metainfo/get/{EMPLOYMENTS}", headers=AUTH).json()
    fields = {f["id"]: f for f in body["fields"]}
    assert body["name"] == EMPLOYMENTS
    assert {"ExternalID", "Medewerker", "Begindatum", "Einddatum", "Functie_code"} <= set(fields)
    assert {"Functie_omschrijving", "Organisatorische_eenheid_code"} <= set(fields)
    assert "Leidinggevende_medewerker" in fields
    assert fields["Begindatum"]["dataType"] == "date"
    assert fields["Medewerker"]["dataType"] == "string"


def test_the_generated_company_is_dutch_and_varied() -> None:
    users = DATASET["connectors"][USERS]
    jobs = DATASET["connectors"][EMPLOYMENTS]
    units = DATASET["connectors"][ORGANIZATIONAL_UNITS]
    assert generate_dataset(count=COUNT, seed=11) == DATASET  # seeded: the same every time
    assert {"van der", "'t"} <= {u["Voorvoegsel"] for u in users}
    assert any(not u["Achternaam"].isascii() or not u["Roepnaam"].isascii() for u in users)
    assert {u["Naamgebruik_code"] for u in users} == {"0", "1", "2", "3"}
    per_person: dict[str, int] = {}
    for job in jobs:
        per_person[job["Medewerker"]] = per_person.get(job["Medewerker"], 0) + 1
    assert max(per_person.values()) >= 2
    assert {j["Leidinggevende_medewerker"] for j in jobs} - {None} <= set(per_person)
    assert sum(1 for u in units if u["ParentExternalId"] is None) == 1
    parents = {u["ExternalId"]: u["ParentExternalId"] for u in units}
    assert any(parents.get(parents.get(code) or "") for code in parents)  # three levels deep


def test_patch_merges_into_the_user_row_and_the_current_employment(
    sim: AfasSimulator, http: httpx2.Client
) -> None:
    number = "10020"
    before = http.get(f"{sim.control_url}/employees/{number}").json()
    patch = {"Einddatum": "2030-06-30T00:00:00Z", "Roepnaam": "Jopie"}
    answer = http.patch(f"{sim.control_url}/employees/{number}", json=patch)
    assert answer.status_code == 200
    user = _filtered(http, sim, USERS, "Medewerker", number, 1)[0]
    assert user["Roepnaam"] == "Jopie"
    assert user[MODIFIED] > before["user"][MODIFIED]
    jobs = _filtered(http, sim, EMPLOYMENTS, "Medewerker", number, 1)
    ended = [j for j in jobs if j["Einddatum"] == "2030-06-30T00:00:00Z"]
    assert len(ended) == 1
    assert ended[0]["Begindatum"] == max(j["Begindatum"] for j in before["employments"])
    unknown = http.patch(f"{sim.control_url}/employees/{number}", json={"Nope": 1})
    assert unknown.status_code == 400
    assert http.patch(f"{sim.control_url}/employees/99999", json=patch).status_code == 404


def test_a_new_hire_is_added_with_its_employments(sim: AfasSimulator, http: httpx2.Client) -> None:
    hire = {
        "user": {"Medewerker": "20001", "Roepnaam": "Fleur", "Achternaam": "Jong"},
        "employments": [{"Begindatum": "2027-01-01T00:00:00Z", "Functie_omschrijving": "Planner"}],
    }
    added = http.post(f"{sim.control_url}/employees", json=hire)
    assert added.status_code == 201
    jobs = _filtered(http, sim, EMPLOYMENTS, "Medewerker", "20001", 1)
    assert [(j["ExternalID"], j["Functie_omschrijving"]) for j in jobs] == [("20001_1", "Planner")]
    assert _filtered(http, sim, USERS, "Medewerker", "20001", 1)[0][MODIFIED]
    assert http.post(f"{sim.control_url}/employees", json=hire).status_code == 400  # exists


def test_reset_restores_the_dataset(sim: AfasSimulator, http: httpx2.Client) -> None:
    http.patch(f"{sim.control_url}/employees/10001", json={"Achternaam": "Anders"})
    assert http.post(f"{sim.control_url}/reset").status_code == 204
    assert http.get(f"{sim.control_url}/dataset").json() == DATASET


def test_faults_answer_429_with_retry_after_then_503_then_recover(
    sim: AfasSimulator, http: httpx2.Client
) -> None:
    armed = http.put(f"{sim.control_url}/faults", json={"status": 429, "retryAfter": 7, "times": 2})
    assert armed.status_code == 200
    url = f"{sim.url}/connectors/{USERS}"
    for _ in range(2):
        busy = http.get(url, headers=AUTH)
        assert (busy.status_code, busy.headers["Retry-After"]) == (429, "7")
    assert http.get(url, headers=AUTH).status_code == 200
    http.put(f"{sim.control_url}/faults", json={"status": 503, "retryAfter": None})
    down = http.get(url, headers=AUTH)
    assert down.status_code == 503 and "Retry-After" not in down.headers
    assert http.get(url, headers=AUTH).status_code == 200


def test_a_slow_fault_delays_every_answer(sim: AfasSimulator, http: httpx2.Client) -> None:
    http.put(f"{sim.control_url}/faults", json={"slowSeconds": 0.3})
    started = time.monotonic()
    assert http.get(f"{sim.url}/connectors/{USERS}", params={"take": 1}, headers=AUTH).is_success
    assert time.monotonic() - started >= 0.3
    assert http.delete(f"{sim.control_url}/faults").status_code == 204
    assert http.get(f"{sim.control_url}/faults").json()["slowSeconds"] == 0.0


def test_the_command_serves_a_generated_company(tmp_path: Path) -> None:
    saved = tmp_path / "afas.json"
    command = [
        str(Path(sys.executable).parent / "hrsync"), "afas-sim", "--port", "0",
        "--token", "cli-token", "--generate", "25", "--seed", "3", "--save-dataset", str(saved),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the banner must not wait in a pipe buffer
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = banner.split(": ", 1)[1].split(";", 1)[0]
        headers = {"Authorization": afas_authorization("cli-token")}
        rows = httpx2.get(f"{url}/connectors/{USERS}", headers=headers, timeout=10).json()["rows"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert len(rows) == 25
    assert json.loads(saved.read_text(encoding="utf-8")) == generate_dataset(25, 3)


def test_a_dataset_file_is_checked_when_loaded(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(DATASET), encoding="utf-8")
    assert load_dataset(good) == DATASET
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"connectors": {USERS: ["not a row"]}}), encoding="utf-8")
    with pytest.raises(DatasetError, match="rows must be a list of objects"):
        load_dataset(bad)
    bad.write_text(json.dumps({"employees": []}), encoding="utf-8")
    with pytest.raises(DatasetError, match='"connectors"'):
        load_dataset(bad)
