"""The Oneflow contract write-back end to end: both simulators over HTTP, Oneflow's webhooks
arriving over real HTTP at `hrsync serve`, the steps run as jobs by its workers.

The four events (created, published, signed; declined and expired recorded); a replayed
callback id; bad and missing signatures; an overlapping period; a 230-character contract name;
the manager already a party; a manager without an Oneflow user; SMS delivery without a mobile;
Flex HRM answering 503 during signing; hrsync stopped between acknowledging and processing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from hrsync.simulators.flexhrm import Credentials, Faults, FlexSimulator, generate_dataset
from hrsync.simulators.oneflow import OneflowSimulator, TemplateOptions, signature

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
HR = "hr@acme.example"
TOKEN, KEY = "oneflow-test-token", "oneflow-sign-key"
DATASET = generate_dataset(count=80, seed=5)
CONFIG = """
[sources.flex]
type = "flexhrm"
url = "{flex}"
instance = "acme"
username = "api"
password_env = "FLEX_PASSWORD"

[integrations.oneflow]
type = "oneflow"
source = "flex"
url = "{oneflow}"
token_env = "ONEFLOW_TOKEN"
user_email = "{hr}"
sign_key_env = "ONEFLOW_SIGN_KEY"
document_category = "Oneflow Documents"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _candidates(sim: FlexSimulator) -> list[dict[str, Any]]:
    """Employees with a work e-mail, a mobile, a current titled period and a manager with an
    e-mail, and an employment number no other company uses: every case starts from one."""
    today = date.today().isoformat()
    numbers = [number_of(e) for e in sim.store.employees()]
    found = []
    for employee in sim.store.employees():
        if numbers.count(number_of(employee)) > 1:
            continue  # numbers are unique per company only; the workflow refuses to guess
        manager = sim.employee(employee.get("immediateManagerEmployeeId") or "")
        periods = employee["employmentPeriods"]
        current = [
            p for p in periods
            if p["fromDate"][:10] <= today and (not p.get("toDate") or today <= p["toDate"][:10])
            and p.get("titleId")
        ]  # fmt: skip
        reachable = bool(employee.get("emailWork") and employee.get("phone4") and current)
        if reachable and manager and manager.get("emailWork") and len(periods) == 1:
            found.append(employee)
    return found


@dataclass
class Site:
    flex: FlexSimulator
    oneflow: OneflowSimulator
    home: Path
    env: dict[str, str]
    port: int
    people: dict[str, dict[str, Any]]
    serve: subprocess.Popen[bytes] | None = None

    @property
    def hook(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/oneflow/oneflow"

    def start(self, workers: int = 2) -> None:
        log = (self.home / f"serve-{time.monotonic_ns()}.log").open("wb")
        self.serve = subprocess.Popen(
            [HRSYNC, "serve", "--port", str(self.port), "--workers", str(workers)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(self._is_up, "hrsync serve to listen")

    def stop(self) -> None:
        if self.serve is not None:
            self.serve.send_signal(signal.SIGTERM)
            self.serve.wait(timeout=90)
            self.serve = None

    def _is_up(self) -> bool:
        try:
            return httpx2.get(f"http://127.0.0.1:{self.port}/signin/").status_code == 200
        except httpx2.TransportError:
            return False

    def hrsync(self, *args: str) -> str:
        done = subprocess.run([HRSYNC, *args], env=self.env, capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def contracts(self) -> dict[int, dict[str, Any]]:
        listed = json.loads(self.hrsync("oneflow", "contracts", "oneflow", "--json"))
        return {row["contract_id"]: row for row in listed["contracts"]}

    def steps(self, contract_id: int) -> list[tuple[str, str, str]]:
        row = self.contracts().get(contract_id) or {"steps": []}
        return [(s["event"], s["step"], s["status"]) for s in row["steps"]]

    def step(self, contract_id: int, kind: str) -> dict[str, Any]:
        row = self.contracts()[contract_id]
        return next(s for s in row["steps"] if s["step"] == kind)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("oneflow-site")
    with FlexSimulator(DATASET, credentials=Credentials("acme", "api", "flex-pw")) as flex:
        people = _candidates(flex)
        assert len(people) >= 9
        managers = [flex.employee(p["immediateManagerEmployeeId"]) for p in people]
        emails = {m["emailWork"] for m in managers if m}
        lonely = next(
            p for p, m in zip(people, managers, strict=True)
            if m and sum(1 for o in managers if o and o["id"] == m["id"]) == 1
        )  # fmt: skip
        lonely_manager = flex.employee(lonely["immediateManagerEmployeeId"])
        assert lonely_manager is not None
        emails.discard(lonely_manager["emailWork"])
        named = [p for p in people if p["id"] != lonely["id"]]
        roles = ["main", "party", "sms", "down", "overlap", "long", "restart", "decline"]
        chosen = dict(zip(roles, named, strict=False)) | {"lonely": lonely}
        users = [HR, *sorted(emails)]
        with OneflowSimulator(token=TOKEN, users=users, sign_key=KEY, time_factor=20) as oneflow:
            env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                   "HRSYNC_QUEUE_URL", "HRSYNC_QUEUE_NAME")}  # fmt: skip
            env |= {
                "HRSYNC_HOME": str(home),
                "FLEX_PASSWORD": "flex-pw",
                "ONEFLOW_TOKEN": TOKEN,
                "ONEFLOW_SIGN_KEY": KEY,
                "HRSYNC_RETRY_BASE_SECONDS": "0.5",
                "HRSYNC_RETRY_CAP_SECONDS": "2",
                "HRSYNC_MAX_ATTEMPTS": "8",
            }
            site = Site(flex, oneflow, home, env, free_port(), chosen)
            (home / "hrsync.toml").write_text(
                CONFIG.format(flex=flex.url, oneflow=oneflow.url, hr=HR), "utf-8"
            )
            site.hrsync("config", "load", str(home / "hrsync.toml"))
            oneflow.add_webhook(site.hook)
            site.start()
            try:
                yield site
            finally:
                site.stop()


def api(site: Site) -> httpx2.Client:
    headers = {"x-oneflow-api-token": TOKEN, "x-oneflow-user-email": HR}
    return httpx2.Client(base_url=site.oneflow.url + "/", headers=headers)


def number_of(employee: dict[str, Any]) -> str:
    return str(employee["employment"][0]["employmentNumber"])


def create(site: Site, role: str, name: str, template: int = 200, **extra: Any) -> int:
    fields = [{"custom_id": "employee_number", "value": number_of(site.people[role])}]
    with api(site) as client:
        answer = client.post("contracts/create", json={"workspace_id": 1, "template_id": template,
                             "name": name, "data_fields": fields, **extra})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def filled(site: Site, contract_id: int) -> dict[str, Any]:
    return wait_until(
        lambda: (
            ("fill", "done") in [(s, t) for _, s, t in site.steps(contract_id)]
            and site.oneflow.contract(contract_id)
        ),
        f"contract {contract_id} filled",
    )


def publish(site: Site, contract_id: int) -> None:
    with api(site) as client:
        assert client.post(f"contracts/{contract_id}/publish", json={}).status_code == 200


def sim_action(site: Site, contract_id: int, action: str) -> None:
    answer = httpx2.post(f"{site.oneflow.base_url}/_sim/contracts/{contract_id}/{action}")
    assert answer.status_code == 200, answer.text


def documents(site: Site, role: str) -> list[str]:
    return [d["fileName"] for d in site.flex.documents(site.people[role]["id"])]


def fields_of(contract: dict[str, Any]) -> dict[str, str]:
    return {f["_private_ownerside"]["custom_id"]: f["value"] for f in contract["data_fields"]}


def test_created_published_signed_end_to_end(site: Site) -> None:
    person = site.people["main"]
    manager = site.flex.employee(person["immediateManagerEmployeeId"])
    assert manager is not None
    cid = create(site, "main", "Employment contract - main")
    contract = filled(site, cid)
    values = fields_of(contract)
    period = person["employmentPeriods"][0]
    title = site.flex.store.titles[period["titleId"]]["name"]
    assert values["first_name"] == person["firstName"] and values["surname"] == person["lastName"]
    assert values["email_work"] == person["emailWork"]
    assert values["mobile_phone_private"] == person["phone4"]
    assert values["position"] == title and values["start_of_employment"] == period["fromDate"][:10]
    assert values["immediate_manager"] == f"{manager['firstName']} {manager['lastName']}"
    owner, employee = contract["parties"]
    assert [p["email"] for p in owner["participants"]] == [HR, manager["emailWork"]]
    assert owner["participants"][1]["signatory"] is False
    assert employee["participants"][0]["email"] == person["emailWork"]

    publish(site, cid)
    wait_until(lambda: documents(site, "main"), "the Pending PDF")
    assert documents(site, "main") == ["Employment contract - main - Pending.pdf"]
    stored = site.flex.employee(person["id"])
    assert stored is not None and stored.get("city") == person.get("city")  # not changed yet

    with api(site) as client:  # the city edited in the contract before it is signed
        client.put(f"contracts/{cid}/data_fields/c::city", json={"value": "Haparanda"})
        client.put(
            f"contracts/{cid}/data_fields/c::end_of_employment", json={"value": "2099-12-31"}
        )
    sim_action(site, cid, "sign")
    wait_until(lambda: len(documents(site, "main")) == 2, "the Signed PDF")
    assert documents(site, "main")[1] == "Employment contract - main - Signed.pdf"
    wait_until(lambda: site.contracts()[cid]["state"] == "signed", "the contract signed")
    signed = site.flex.employee(person["id"])
    assert signed is not None and signed["city"] == "Haparanda"
    assert signed["firstName"] == person["firstName"]
    assert signed["employmentPeriods"][0]["toDate"][:10] == "2099-12-31"
    steps = site.steps(cid)
    assert ("contract:sign", "update_employee", "done") in steps
    assert ("contract:sign", "update_period", "done") in steps
    assert site.step(cid, "update_employee")["outcome"] == "wrote city"
    pdfs = [site.flex.records.document_content(person["id"], n) for n in documents(site, "main")]
    assert all(p and p.startswith(b"%PDF") for p in pdfs) and pdfs[0] != pdfs[1]


def test_declined_and_expired_are_recorded(site: Site) -> None:
    outcomes = []
    for action in ("decline", "expire"):
        cid = create(site, "decline", f"Contract to {action}")
        filled(site, cid)
        publish(site, cid)
        sim_action(site, cid, action)
        wait_until(lambda cid=cid: ("record", "done") in [(s, t) for _, s, t in site.steps(cid)],
                   f"{action} recorded")  # fmt: skip
        outcomes.append(site.contracts()[cid]["state"])
    assert outcomes == ["declined", "overdue"]


def test_a_replayed_callback_does_nothing_twice(site: Site) -> None:
    cid = create(site, "party", "Replayed")
    filled(site, cid)
    sent = next(
        d for d in site.oneflow.deliveries()
        if json.loads(d["body"])["contract"]["id"] == cid and d["status"] == 200
    )  # fmt: skip
    before = site.steps(cid)
    again = httpx2.post(
        site.hook, content=sent["body"], headers={"content-type": "application/json"}
    )
    assert again.status_code == 200 and again.json()["replay"] is True
    time.sleep(1)
    assert site.steps(cid) == before


def test_bad_and_missing_signatures_are_refused(site: Site) -> None:
    event = {"id": 1, "type": "contract:sign", "created_time": "2026-01-01T00:00:00+00:00"}
    body = {"contract": {"id": 1}, "callback_id": "forged", "events": [event]}
    bad = httpx2.post(site.hook, json=body | {"signature": signature("forged", "wrong-key")})
    unsigned = httpx2.post(site.hook, json=body)
    assert (bad.status_code, unsigned.status_code) == (401, 401)
    assert bad.json() == {"error": "bad or missing signature"}
    assert 1 not in site.contracts()


def test_overlapping_period_is_logged_and_skipped(site: Site) -> None:
    cid = create(site, "overlap", "Overlapping")
    contract = filled(site, cid)
    start = date.fromisoformat(fields_of(contract)["start_of_employment"]) + timedelta(days=10)
    publish(site, cid)
    with api(site) as client:
        client.put(f"contracts/{cid}/data_fields/c::start_of_employment",
                   json={"value": start.isoformat()})  # fmt: skip
    sim_action(site, cid, "sign")
    wait_until(lambda: len(documents(site, "overlap")) == 2, "the Signed PDF despite the overlap")
    step = site.step(cid, "update_period")
    assert step["status"] == "skipped" and "overlaps employment period" in step["outcome"]


def test_a_230_character_name_is_cut_keeping_the_suffix(site: Site) -> None:
    name = "Anställningsavtal " + "x" * 212
    assert len(name) == 230
    cid = create(site, "long", name)
    filled(site, cid)
    publish(site, cid)
    (filed,) = wait_until(lambda: documents(site, "long"), "the Pending PDF")
    assert len(filed) == 200 and filed.endswith(" - Pending.pdf")
    assert filed.startswith("Anställningsavtal xxx")


def test_a_changed_employee_number_in_a_draft_refills_and_replaces_the_participant(
    site: Site,
) -> None:
    first, second = site.people["main"], site.people["decline"]
    cid = create(site, "main", "Renumbered draft")
    filled(site, cid)
    with api(site) as client:
        answer = client.put(
            f"contracts/{cid}/data_fields/c::employee_number", json={"value": number_of(second)}
        )
    assert answer.status_code == 200, answer.text

    replaced = f"employee number changed from {number_of(first)}: participant replaced"

    def refill_done() -> bool:
        steps = site.contracts()[cid]["steps"]
        fills = [s for s in steps if s["step"] == "fill" and s["status"] == "done"]
        return any(replaced in note for step in fills for note in step["notes"])

    wait_until(refill_done, "the draft filled again for the new employee number")
    contract = site.oneflow.contract(cid)
    assert contract is not None
    values = fields_of(contract)
    assert values["surname"] == second["lastName"]
    assert values["email_work"] == second["emailWork"]
    counterparties = [p for p in contract["parties"][1:] if p.get("type") == "individual"]
    emails = [q["email"] for p in counterparties for q in p["participants"]]
    assert emails == [second["emailWork"]], "the first employee's participant is replaced"
    assert first["emailWork"] not in emails


def test_manager_already_a_party_is_left_as_is(site: Site) -> None:
    person = site.people["party"]
    manager = site.flex.employee(person["immediateManagerEmployeeId"])
    assert manager is not None
    mine = {"name": "Acme AB", "participants": [
        {"name": "HR", "email": HR, "organizer": True, "signatory": True},
        {"name": "Boss", "email": manager["emailWork"], "signatory": True}]}  # fmt: skip
    cid = create(site, "party", "Manager already there", my_party=mine)
    contract = filled(site, cid)
    step = site.step(cid, "fill")
    assert step["status"] == "done"
    assert any("already a party" in note for note in step["notes"])
    owner = contract["parties"][0]["participants"]
    assert [p["email"] for p in owner].count(manager["emailWork"]) == 1


def test_manager_without_an_oneflow_user_is_not_added(site: Site) -> None:
    cid = create(site, "lonely", "Lonely manager")
    contract = filled(site, cid)
    notes = site.step(cid, "fill")["notes"]
    assert any("has no active Oneflow user: not added" in note for note in notes)
    assert len(contract["parties"][0]["participants"]) == 1


def test_sms_delivery_without_a_mobile_is_told(site: Site) -> None:
    site.flex.patch_employee(site.people["sms"]["id"], {"phone4": None})
    template = site.oneflow.add_template("SMS contract", TemplateOptions(delivery_channel="sms"))
    cid = create(site, "sms", "By SMS", template=template["id"])
    contract = filled(site, cid)
    notes = site.step(cid, "fill")["notes"]
    assert any("needs the employee's mobile (Phone4)" in note for note in notes)
    assert not [p for p in contract["parties"] if not p["my_party"]]


def test_flex_down_during_signing_is_retried_and_uploads_once(site: Site) -> None:
    cid = create(site, "down", "Flex down")
    filled(site, cid)
    publish(site, cid)
    wait_until(lambda: documents(site, "down"), "the Pending PDF")
    site.flex.faults = Faults(status=503, retry_after=0, times=14)
    sim_action(site, cid, "sign")
    wait_until(lambda: len(documents(site, "down")) == 2, "the Signed PDF after the outage", 60)
    assert documents(site, "down") == ["Flex down - Pending.pdf", "Flex down - Signed.pdf"]
    attempts = {s["step"]: s["attempts"] for s in site.contracts()[cid]["steps"]}
    assert attempts["update_employee"] > 1
    assert all(status in ("done", "skipped") for _, _, status in site.steps(cid))


def test_restart_between_acknowledgement_and_processing(site: Site) -> None:
    site.stop()
    site.start(workers=0)  # acknowledges and stores; runs no jobs
    cid = create(site, "restart", "Across a restart")
    wait_until(
        lambda: any(json.loads(d["body"])["contract"]["id"] == cid and d["status"] == 200
                    for d in site.oneflow.deliveries()),
        "the delivery acknowledged",
    )  # fmt: skip
    time.sleep(0.5)
    assert site.steps(cid) == []
    site.stop()
    site.start()
    filled(site, cid)
    steps = site.contracts()[cid]["steps"]
    created = [
        (s["step"], s["status"], s["attempts"]) for s in steps if s["event"] == "contract:create"
    ]
    assert created == [("fill", "done", 1)]  # processed once, on the first attempt
