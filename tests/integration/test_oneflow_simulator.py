"""The Oneflow simulator over loopback HTTP: auth, the catalog, contracts and their parties,
validation errors, data fields, publish/sign/decline/expire, PDFs behind signed URLs, and
webhooks (body, signature, retries with a stable callback id, filters) — as research §2 says."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.webhook_receiver import WebhookReceiver, run_webhook_receiver

from hrsync.simulators.oneflow import FLEX_DATA_FIELDS, RETRY_SCHEDULE, OneflowSimulator

TOKEN = "tok"
HR = "hr@acme.example"
BOSS = "boss@acme.example"
KEY = "the-sign-key"


@pytest.fixture
def sim() -> Iterator[OneflowSimulator]:
    with OneflowSimulator(token=TOKEN, users=[HR, BOSS], sign_key=KEY, time_factor=1000) as s:
        yield s


@pytest.fixture
def api(sim: OneflowSimulator) -> Iterator[httpx2.Client]:
    headers = {"x-oneflow-api-token": TOKEN, "x-oneflow-user-email": HR}
    with httpx2.Client(base_url=sim.url + "/", headers=headers) as client:
        yield client


def create(api: httpx2.Client, **extra: Any) -> dict[str, Any]:
    response = api.post("contracts/create", json={"workspace_id": 1, "template_id": 200, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def employee_party(email: str = "anna@acme.example", **extra: Any) -> dict[str, Any]:
    participant = {"name": "Anna Berg", "email": email, "signatory": True, **extra}
    return {"type": "individual", "participant": participant}


def wait_for(receiver: WebhookReceiver, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.requests) < count:
        assert time.monotonic() < deadline, f"{len(receiver.requests)} of {count} webhooks"
        time.sleep(0.01)


def test_token_and_user_are_checked(sim: OneflowSimulator, api: httpx2.Client) -> None:
    assert api.get("ping").status_code == 200
    missing = httpx2.get(sim.url + "/ping")
    assert missing.status_code == 401
    assert set(missing.json()) >= {"detail", "status", "title", "error_code", "type", "request_id"}
    stranger = api.get("workspaces", headers={"x-oneflow-user-email": "nobody@acme.example"})
    assert stranger.status_code == 403
    assert stranger.json()["title"] == "Forbidden"
    creator = api.get("workspaces", headers={"x-oneflow-user-email": "__CREATOR__"})
    assert creator.status_code == 200


def test_catalog_carries_the_flex_data_fields_and_options(api: httpx2.Client) -> None:
    data = api.get("helpers/contract_create_data").json()
    assert data == {"data": [{"id": 1, "name": "HR", "templates": [
        {"id": 200, "name": "Employment contract"}]}]}  # fmt: skip
    template = api.get("templates/200").json()
    channels = template["available_options"]["delivery_channels"]
    assert [c["name"] for c in channels if c["preferred"]] == ["email"]
    assert next(c for c in channels if c["name"] == "sms")["required_participant_attributes"] == [
        "phone_number"
    ]
    kind = api.get(f"template_types/{template['template_type']['id']}").json()
    assert [(f["custom_id"], f["name"]) for f in kind["data_fields"]] == list(FLEX_DATA_FIELDS)
    assert api.get("workspaces").json()["data"][0]["_permissions"] == {"contract:create": True}


def test_create_without_my_party_makes_the_company_the_owner(api: httpx2.Client) -> None:
    contract = create(api, name="Anna", data_fields=[{"custom_id": "employee_number",
                                                      "value": "1042"}])  # fmt: skip
    assert contract["state"] == "draft"
    (owner,) = contract["parties"]
    assert owner["my_party"] is True and owner["name"] == "Acme AB"
    (organizer,) = owner["participants"]
    assert organizer["email"] == HR and organizer["organizer"] is True
    assert organizer["sign_state"] == "undecided" and organizer["delivery_status"] == "not_sent"
    fields = {f["_private_ownerside"]["custom_id"]: f["value"] for f in contract["data_fields"]}
    assert fields["employee_number"] == "1042" and len(fields) == 15


def test_create_with_my_party_keeps_its_participants(api: httpx2.Client) -> None:
    mine = {"name": "Acme HR", "participants": [{"name": "Boss", "email": BOSS}]}
    contract = create(api, my_party=mine, parties=[employee_party()])
    owner, other = contract["parties"]
    assert owner["name"] == "Acme HR" and [p["email"] for p in owner["participants"]] == [BOSS]
    assert other["type"] == "individual" and other["participants"][0]["signatory"] is True


def test_duplicate_email_is_refused_with_parameter_problems(api: httpx2.Client) -> None:
    contract = create(api)
    parties = f"contracts/{contract['id']}/parties"
    owner = contract["parties"][0]["id"]
    again = api.post(f"{parties}/{owner}/participants", json={"name": "HR", "email": HR.upper()})
    assert again.status_code == 400
    body = again.json()
    assert body["error_code"] == 4000003
    assert body["parameter_problems"] == {
        "parties[0].participants[1].email": ["You tried to add a duplicate participant."]
    }
    assert len(api.get(parties).json()["data"][0]["participants"]) == 1  # nothing kept


def test_forty_participants_at_most(api: httpx2.Client) -> None:
    contract = create(api)
    owner = contract["parties"][0]["id"]
    url = f"contracts/{contract['id']}/parties/{owner}/participants"
    for n in range(39):
        assert api.post(url, json={"name": f"P{n}", "email": f"p{n}@x.example"}).is_success
    over = api.post(url, json={"name": "P40", "email": "p40@x.example"})
    assert over.status_code == 400 and "40" in over.json()["detail"]


def test_channel_attributes_are_required(sim: OneflowSimulator, api: httpx2.Client) -> None:
    contract = create(api)
    url = f"contracts/{contract['id']}/parties"
    sms = api.post(url, json=employee_party(delivery_channel="sms"))
    assert sms.status_code == 400
    assert sms.json()["parameter_problems"] == {
        "party.participant.phone_number": ["Required when using 'sms'."]
    }
    unknown = api.post(url, json=employee_party(sign_method="danish_nemid"))
    assert "party.participant.sign_method" in unknown.json()["parameter_problems"]
    ok = api.post(url, json=employee_party(delivery_channel="sms", phone_number="+4670123"))
    assert ok.status_code == 200


def test_data_fields_by_custom_id(api: httpx2.Client) -> None:
    contract = create(api)
    url = f"contracts/{contract['id']}/data_fields/c::city"
    answer = api.put(url, json={"value": "Umeå"})
    assert answer.status_code == 200 and answer.json()["value"] == "Umeå"
    assert (
        api.put(f"contracts/{contract['id']}/data_fields/c::nope", json={"value": 1}).status_code
        == 404
    )


def test_lifecycle_files_and_webhooks(sim: OneflowSimulator, api: httpx2.Client) -> None:
    with run_webhook_receiver() as receiver:
        sim.add_webhook(receiver.url)
        contract = create(api, name="Employment contract - Anna", parties=[employee_party()])
        cid = contract["id"]
        pdf_before = download(api, cid, 1)
        assert pdf_before.startswith(b"%PDF-1.4") and pdf_before.rstrip().endswith(b"%%EOF")
        assert api.post(
            f"contracts/{cid}/publish", json={"subject": "s", "message": "m"}
        ).is_success
        assert api.post(f"contracts/{cid}/publish", json={}).status_code == 409
        assert httpx2.post(f"{sim.base_url}/_sim/contracts/{cid}/sign").json()["state"] == "signed"
        wait_for(receiver, 3)
        files = api.get(f"contracts/{cid}/files").json()["data"]
        assert [(f["id"], f["type"]) for f in files] == [(1, "contract"), (2, "verification")]
        assert download(api, cid, 1) != pdf_before
        assert (
            api.put(f"contracts/{cid}/data_fields/c::city", json={"value": "x"}).status_code == 409
        )
    bodies = [r.json() for r in receiver.requests]
    assert [b["events"][0]["type"] for b in bodies] == [
        "contract:create", "contract:publish", "contract:sign"]  # fmt: skip
    for request, body in zip(receiver.requests, bodies, strict=True):
        assert set(body) == {"contract", "callback_id", "events", "signature"}
        assert body["contract"] == {"id": cid}
        assert set(body["events"][0]) == {"id", "type", "created_time"}
        expected = hashlib.sha1((body["callback_id"] + KEY).encode()).hexdigest()
        assert body["signature"] == expected
        assert request.headers["content-type"] == "application/json"
    log = sim.deliveries()
    assert [entry["body"] for entry in log] == [r.body.decode() for r in receiver.requests]
    assert {entry["status"] for entry in log} == {200} and {e["attempt"] for e in log} == {1}


def download(api: httpx2.Client, contract_id: int, file_id: int) -> bytes:
    answer = api.get(f"contracts/{contract_id}/files/{file_id}", params={"download": "true"})
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert "X-Amz-Signature=" in location
    blob = httpx2.get(location)
    assert blob.status_code == 200 and blob.headers["content-type"] == "binary/octet-stream"
    assert httpx2.get(location.replace("Signature=", "Signature=0")).status_code == 403
    return blob.content


def test_decline_and_expire(sim: OneflowSimulator, api: httpx2.Client) -> None:
    states = []
    for action in ("decline", "expire"):
        contract = create(api, parties=[employee_party()])
        api.post(f"contracts/{contract['id']}/publish", json={})
        states.append(httpx2.post(f"{sim.base_url}/_sim/contracts/{contract['id']}/{action}"))
    assert [s.json()["state"] for s in states] == ["declined", "overdue"]
    draft = create(api)
    assert httpx2.post(f"{sim.base_url}/_sim/contracts/{draft['id']}/sign").status_code == 409


def test_retries_follow_the_schedule_with_one_callback_id(sim: OneflowSimulator,
                                                         api: httpx2.Client) -> None:  # fmt: skip
    with run_webhook_receiver(fail_next=3) as receiver:
        sim.add_webhook(receiver.url, events=["contract:create"])
        create(api)
        wait_for(receiver, 4)
        assert sim.wait_idle()
    ids = {r.json()["callback_id"] for r in receiver.requests}
    assert len(ids) == 1 and [r.status for r in receiver.requests] == [503, 503, 503, 200]
    log = httpx2.get(f"{sim.base_url}/_sim/deliveries").json()
    assert [(e["attempt"], e["status"]) for e in log] == [(1, 503), (2, 503), (3, 503), (4, 200)]
    assert set(log[0]) >= {"url", "body", "status", "attempt", "time"}


def test_gives_up_after_ten_attempts(api: httpx2.Client) -> None:
    factor = sum(RETRY_SCHEDULE) / 0.5  # the whole schedule in half a second
    with OneflowSimulator(token=TOKEN, users=[HR], time_factor=factor) as fast:
        fast.add_webhook("http://127.0.0.1:9/nowhere")  # nothing listens on port 9
        headers = {"x-oneflow-api-token": TOKEN}
        httpx2.post(fast.url + "/contracts/create", headers=headers,
                    json={"workspace_id": 1, "template_id": 200})  # fmt: skip
        assert fast.wait_idle(timeout=30)
        log = fast.deliveries()
    assert [e["attempt"] for e in log] == list(range(1, 11))
    assert all(e["status"] is None and e["error"] for e in log)


def test_filters_choose_the_events(sim: OneflowSimulator, api: httpx2.Client) -> None:
    with run_webhook_receiver() as receiver:
        created = api.post("webhooks", json={"callback_url": receiver.url, "sign_key": "own",
            "filters": [{"filter_rules": [{"type": "EVENT_TYPE",
                                           "values": ["contract:publish"]}]}]})  # fmt: skip
        assert created.status_code == 200
        contract = create(api, parties=[employee_party()])
        api.post(f"contracts/{contract['id']}/publish", json={})
        wait_for(receiver, 1)
        assert sim.wait_idle()
    (only,) = [r.json() for r in receiver.requests]
    assert only["events"][0]["type"] == "contract:publish"
    assert only["signature"] == hashlib.sha1((only["callback_id"] + "own").encode()).hexdigest()


def test_the_command_serves_with_its_options(tmp_path: Path) -> None:
    with run_webhook_receiver() as receiver:
        hrsync = str(Path(sys.executable).with_name("hrsync"))
        process = subprocess.Popen(
            [hrsync, "oneflow-sim", "--port", "0", "--token", "cli", "--users", HR, "--users",
             BOSS, "--sign-key", "k", "--webhook", f"{receiver.url} events=contract:create",
             "--time-factor", "100"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            url = line.split("Oneflow simulator: ", 1)[1].split(";", 1)[0]
            headers = {"x-oneflow-api-token": "cli", "x-oneflow-user-email": "__CREATOR__"}
            answer = httpx2.post(url + "/contracts/create", headers=headers,
                                 json={"workspace_id": 1, "template_id": 200})  # fmt: skip
            assert answer.status_code == 200
            wait_for(receiver, 1)
        finally:
            process.terminate()
            process.wait(timeout=10)
    body = json.loads(receiver.requests[0].body)
    assert body["signature"] == hashlib.sha1((body["callback_id"] + "k").encode()).hexdigest()
