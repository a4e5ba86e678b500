"""Flex HRM writes over loopback HTTP, simulator and client together: employee update,
employment periods with the overlap rule, document categories, employment documents (base64
upload, the 200-character limit), lookup by employment number, and the API user's
permissions; both dialects, and a 503 that the client waits out."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from hrsync.connectors.flexhrm.client import FlexHrmClient
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.errors import AccessDeniedError, RequestRejectedError
from hrsync.simulators.flexhrm import Credentials, Faults, FlexSimulator, generate_dataset
from hrsync.simulators.flexhrm.records import ALL_PERMISSIONS

DATASET = generate_dataset(count=40, seed=11)
WRITER = Credentials("acme", "api", "secret")
READER = Credentials("acme", "reader", "secret", permissions=ALL_PERMISSIONS - {"employees:write"})
BASIC = "Basic " + base64.b64encode(b"acme:api:secret").decode()


@pytest.fixture
def sim() -> Iterator[FlexSimulator]:
    with FlexSimulator(DATASET, credentials=(WRITER, READER)) as simulator:
        yield simulator


def client_for(url: str, user: str = "api") -> FlexHrmClient:
    config = FlexHrmConfig(url=url, instance="acme", username=user, password="secret")  # type: ignore[arg-type]
    return FlexHrmClient(config, sleep=lambda _: None)


def an_employee(sim: FlexSimulator) -> dict[str, Any]:
    found = next(e for e in sim.store.employees() if e["employmentPeriods"])
    return dict(found)


def test_lookup_by_employment_number_and_update(sim: FlexSimulator) -> None:
    employee = an_employee(sim)
    number = employee["employment"][0]["employmentNumber"]
    with client_for(sim.url) as client:
        (found,) = client.find_employees(number, employee["companyId"])
        assert found["id"] == employee["id"]
        record = client.get_employee(employee["id"])
        client.update_employee(employee["id"], record | {"city": "Kiruna", "phone4": None})
    stored = sim.employee(employee["id"])
    assert stored is not None and stored["city"] == "Kiruna" and stored["phone4"] is None
    assert stored["firstName"] == employee["firstName"]


def test_update_without_the_permission_is_forbidden(sim: FlexSimulator) -> None:
    employee = an_employee(sim)
    with client_for(sim.url, user="reader") as client:
        with pytest.raises(AccessDeniedError, match="403"):
            client.update_employee(employee["id"], {"city": "Luleå"})
        assert client.document_categories(employee["companyId"])  # reading is allowed
    stored = sim.employee(employee["id"])
    assert stored is not None and stored.get("city") == employee.get("city")


def test_periods_create_update_and_overlap(sim: FlexSimulator) -> None:
    employee = an_employee(sim)
    first = employee["employmentPeriods"][-1]
    with client_for(sim.url) as client:
        if first.get("toDate") is None:
            client.update_employment_period(employee["id"], first["id"], {"toDate": "2090-12-31"})
        made = client.create_employment_period(
            employee["id"], {"fromDate": "2091-01-01", "toDate": "2091-06-30"}
        )
        assert made["fromDate"] == "2091-01-01T00:00:00"
        with pytest.raises(RequestRejectedError, match=f"overlaps employment period {made['id']}"):
            client.create_employment_period(employee["id"], {"fromDate": "2091-03-01"})
        client.update_employment_period(employee["id"], made["id"], {"toDate": "2091-12-31"})
        periods = client.employment_periods(employee["id"])
    assert [p["toDate"] for p in periods if p["id"] == made["id"]] == ["2091-12-31T00:00:00"]


def test_categories_and_documents(sim: FlexSimulator) -> None:
    employee = an_employee(sim)
    pdf = b"%PDF-1.4 tiny"
    with client_for(sim.url) as client:
        categories = client.document_categories(employee["companyId"])
        assert [(c["name"], c["usedInEmploymentRegister"]) for c in categories] == [
            ("Oneflow Documents", True),
            ("Other", False),
        ]
        oneflow = categories[0]["id"]
        client.upload_document(employee["id"], oneflow, "A - Pending.pdf", pdf)
        with pytest.raises(RequestRejectedError, match="at most 200"):
            client.upload_document(employee["id"], oneflow, "x" * 197 + ".pdfx", pdf)
        listed = client.employment_documents(employee["companyId"], employee["id"])
    assert [(d["fileName"], d["contentLength"]) for d in listed] == [("A - Pending.pdf", len(pdf))]
    shown = httpx2.get(f"{sim.url.removesuffix('/api/')}/_sim/employees/{employee['id']}").json()
    assert [(d["fileName"], d["category"], d["contentLength"]) for d in shown["documents"]] == [
        ("A - Pending.pdf", "Oneflow Documents", len(pdf))
    ]
    assert "created" in shown["documents"][0] and shown["employmentPeriods"]
    assert sim.records.document_content(employee["id"], "A - Pending.pdf") == pdf


def test_declared_categories_replace_the_defaults() -> None:
    company = DATASET["companies"][0]["id"]
    declared = [{"id": "5f0c8a3e-1111-4a4a-9b9b-000000000001", "companyId": company,
                 "name": "Oneflow Avtal", "usedInEmploymentRegister": True}]  # fmt: skip
    sim = FlexSimulator(DATASET | {"documentCategories": declared}, credentials=WRITER)
    with sim, client_for(sim.url) as client:
        assert [c["name"] for c in client.document_categories(company)] == ["Oneflow Avtal"]


def test_legacy_dialect_writes_in_pascal_case(sim: FlexSimulator) -> None:
    employee = an_employee(sim)
    headers = {"Authorization": BASIC}
    answer = httpx2.put(
        f"{sim.legacy_url}employees/{employee['id']}", json={"City": "Visby"}, headers=headers
    )
    assert answer.status_code == 200 and answer.json()["City"] == "Visby"


def test_a_503_is_waited_out_and_a_post_is_sent_once(sim: FlexSimulator) -> None:
    employee = an_employee(sim)
    oneflow = next(
        c["id"] for c in sim.records.categories.values()
        if c["companyId"] == employee["companyId"] and c["name"] == "Oneflow Documents"
    )  # fmt: skip
    sim.faults = Faults(status=503, retry_after=0, times=2)
    with client_for(sim.url) as client:
        client.upload_document(employee["id"], oneflow, "B - Signed.pdf", b"%PDF")
    assert [d["fileName"] for d in sim.documents(employee["id"])] == ["B - Signed.pdf"]
