"""The Oneflow integration's set-up check (CLI, API, console) against both simulators over HTTP,
and its console pages with the Django test client: roles, CSRF, a failed step's "what to do"
and its Retry (queued, audited, only the failed step reset); a step failed for good told on the
employee's ticket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from tests.integration.api_data import client_for

from hrsync.app.contracts.checks import check_integration
from hrsync.app.contracts.jobs import run_contract_job
from hrsync.app.contracts.settings import load_integrations
from hrsync.app.models import (
    AuditEvent,
    Contract,
    ContractDelivery,
    ContractStep,
    Integration,
    JobRun,
    Person,
    Source,
    Ticket,
    TicketEntry,
)
from hrsync.app.security.secrets import encrypt
from hrsync.cli.oneflow import oneflow
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.simulators.oneflow import OneflowSimulator
from hrsync.simulators.oneflow.catalog import FLEX_DATA_FIELDS

pytestmark = pytest.mark.django_db
TOKEN, KEY, HR = "of-token", "of-key", "hr@acme.example"
DATASET = generate_dataset(count=12, seed=3)


@dataclass
class Setup:
    flex: FlexSimulator
    oneflow: OneflowSimulator
    integration: Integration


def _setup(
    monkeypatch: pytest.MonkeyPatch, flex: FlexSimulator, oneflow: OneflowSimulator, **extra: str
) -> Setup:
    monkeypatch.setenv("ONEFLOW_TOKEN", TOKEN)
    monkeypatch.setenv("ONEFLOW_SIGN_KEY", KEY)
    Source.objects.create(
        key="flex", kind="flexhrm",
        settings={"url": flex.url, "username": "api", "instance": "acme", "max_retries": 0},
        secret=encrypt("flex-pw"),
    )  # fmt: skip
    entry = {"type": "oneflow", "source": "flex", "url": oneflow.url, "token_env": "ONEFLOW_TOKEN",
             "user_email": HR, "sign_key_env": "ONEFLOW_SIGN_KEY", **extra}  # fmt: skip
    load_integrations({"oneflow": entry})
    return Setup(flex, oneflow, Integration.objects.get(key="oneflow"))


@pytest.fixture
def oneflow_sim() -> Iterator[OneflowSimulator]:
    with OneflowSimulator(token=TOKEN, users=[HR], sign_key=KEY) as sim:
        yield sim


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch, oneflow_sim: OneflowSimulator) -> Iterator[Setup]:
    with FlexSimulator(DATASET, credentials=Credentials("acme", "api", "flex-pw")) as flex:
        yield _setup(monkeypatch, flex, oneflow_sim)


def signed_in(role: str) -> Client:
    user, _ = User.objects.get_or_create(username=f"{role}-user", email=f"{role}@example.org")
    user.groups.add(Group.objects.get(name=role))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def by_name(checks: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(c["name"]): c for c in checks}


def test_a_complete_set_up_passes_every_check_and_creates_nothing(setup: Setup) -> None:
    types_before = len(setup.oneflow.store.template_types)
    checks = check_integration("oneflow", "tests")
    companies = {str(c["id"]) for c in DATASET["companies"]}
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    names = [c.name for c in checks]
    assert names[:2] == ["oneflow", "flex_permissions"] and names[-1] == "data_fields"
    assert {n.removeprefix("document_category:") for n in names[2:-1]} == companies
    assert len(setup.oneflow.store.template_types) == types_before
    event = AuditEvent.objects.get(action="integration.check")
    assert event.actor == "tests" and len(event.after["checks"]) == len(checks)


def test_missing_rights_category_and_token_each_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, oneflow_sim: OneflowSimulator
) -> None:
    reader = Credentials("acme", "api", "flex-pw",
                         permissions=frozenset({"employees:read", "documents:read"}))  # fmt: skip
    with FlexSimulator(DATASET, credentials=reader) as flex:
        _setup(monkeypatch, flex, oneflow_sim, document_category="Oneflow Contracts")
        monkeypatch.setenv("ONEFLOW_TOKEN", "wrong")
        checks = {c.name: c for c in check_integration("oneflow", "tests")}
    assert not checks["oneflow"].ok and "token" in checks["oneflow"].message
    rights = checks["flex_permissions"]
    assert not rights.ok
    assert "employees:write" in rights.message and "documents:write" in rights.message
    assert "employees:read" not in rights.message
    categories = [c for n, c in checks.items() if n.startswith("document_category:")]
    assert categories and not any(c.ok for c in categories)
    assert all("create the document category 'Oneflow Contracts'" in c.what_to_do
               and "Used in employment register" in c.what_to_do for c in categories)  # fmt: skip
    assert not checks["data_fields"].ok  # Oneflow refused the token for this one too


def test_missing_data_fields_are_created_once_with_their_custom_ids(setup: Setup) -> None:
    store = setup.oneflow.store
    for template_type in store.template_types.values():  # a template group without the city
        template_type["data_fields"] = [
            f for f in template_type["data_fields"] if f["custom_id"] != "city"
        ]
    before = set(store.template_types)
    first = by_name([_d(c) for c in check_integration("oneflow", "tests")])
    assert first["data_fields"]["ok"] and "created" in str(first["data_fields"]["message"])
    (made,) = set(store.template_types) - before
    fields = [(f["custom_id"], f["name"]) for f in store.template_types[made]["data_fields"]]
    assert fields == list(FLEX_DATA_FIELDS)
    again = {c.name: c for c in check_integration("oneflow", "tests")}
    assert again["data_fields"].ok and "created" not in again["data_fields"].message
    assert set(store.template_types) - before == {made}


def _d(check: object) -> dict[str, object]:
    return {k: getattr(check, k) for k in ("name", "ok", "message", "what_to_do")}


def test_cli_check_prints_text_and_json_and_exits_1_on_a_failure(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hrsync.cli.oneflow.setup_django", lambda: None)
    runner = CliRunner()
    text = runner.invoke(oneflow, ["check", "oneflow"])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[0].split()[:2] == ["ok", "oneflow"]
    as_json = runner.invoke(oneflow, ["check", "oneflow", "--json"])
    report = json.loads(as_json.output)
    assert report["ok"] is True and report["integration"] == "oneflow"
    assert "flex_permissions" in by_name(report["checks"])
    monkeypatch.setenv("ONEFLOW_TOKEN", "wrong")
    failed = runner.invoke(oneflow, ["check", "oneflow"])
    assert failed.exit_code == 1 and failed.output.startswith("FAILED")
    unknown = runner.invoke(oneflow, ["check", "nope"])
    assert unknown.exit_code == 1 and "no integration 'nope'" in unknown.output


def _user(role: str) -> User:
    user = User.objects.create_user(f"api-{role}")
    user.groups.add(Group.objects.get(name=role))
    return user


def test_api_check_is_for_admins_and_answers_every_check(setup: Setup) -> None:
    assert client_for(_user("operator")).post("/api/integrations/oneflow/check").status_code == 403
    admin = client_for(_user("admin"))
    answer = admin.post("/api/integrations/oneflow/check")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["ok"] is True
    assert {"oneflow", "flex_permissions", "data_fields"} <= set(by_name(body["checks"]))
    assert admin.post("/api/integrations/none/check").status_code == 404
    viewer = client_for(_user("viewer"))
    assert viewer.get("/api/integrations/oneflow/contracts").json() == []


# --- console pages ------------------------------------------------------------------------


def _failed_contract(integration: Integration) -> tuple[Contract, ContractStep, ContractStep]:
    contract = Contract.objects.create(
        integration=integration, contract_id=41, name="Employment contract - Anna",
        state="signed", employee_number="1001", employee_name="Anna Berg",
    )  # fmt: skip
    delivery = ContractDelivery.objects.create(
        integration=integration, callback_id="cb-1", contract_id=41,
        event_type="contract:sign", processed="2026-01-01T00:00:00Z",
    )  # fmt: skip
    done = ContractStep.objects.create(
        contract=contract, delivery=delivery, kind="update_employee", status="done",
        attempts=1, outcome="wrote city",
        details=[{"finished": "x", "status": "done", "outcome": "wrote city",
                  "notes": ["city: 'Kiruna' → 'Haparanda'"]}],
    )  # fmt: skip
    failed = ContractStep.objects.create(
        contract=contract, delivery=delivery, kind="upload_signed", status="failed",
        attempts=3, outcome="company 1 in Flex HRM has no document category",
        details=[{"finished": "x", "status": "failed", "outcome": "no category", "notes": []}],
    )  # fmt: skip
    return contract, done, failed


def test_integration_page_lists_contracts_and_offers_the_check_to_admins(setup: Setup) -> None:
    _failed_contract(setup.integration)
    viewer = signed_in("viewer").get("/integrations/oneflow/")
    page = viewer.content.decode()
    assert viewer.status_code == 200
    assert "/integrations/oneflow/contracts/41/" in page and "Anna Berg (1001)" in page
    assert "a step failed" in page and "contract:sign" in page
    assert "Check set-up" not in page
    assert "Check set-up" in signed_in("admin").get("/integrations/oneflow/").content.decode()
    listing = signed_in("viewer").get("/integrations/").content.decode()
    assert 'href="/integrations/oneflow/"' in listing and 'href="/integrations/"' in listing


def test_check_button_is_admin_only_needs_csrf_and_shows_the_results(setup: Setup) -> None:
    assert signed_in("operator").post("/integrations/oneflow/check/").status_code == 403
    admin = signed_in("admin")
    assert admin.post("/integrations/oneflow/check/").status_code == 403  # no CSRF token
    admin.get("/integrations/oneflow/")
    token = admin.cookies["csrftoken"].value
    answer = admin.post("/integrations/oneflow/check/", HTTP_X_CSRFTOKEN=token, follow=True)
    page = answer.content.decode()
    assert answer.status_code == 200 and "Every set-up check passed." in page
    assert "flex_permissions" in page and "has the 15 data fields" in page
    assert AuditEvent.objects.filter(action="integration.check", actor="admin-user").exists()


def test_contract_page_shows_steps_notes_and_what_to_do(setup: Setup) -> None:
    _failed_contract(setup.integration)
    operator = signed_in("operator")
    page = operator.get("/integrations/oneflow/contracts/41/").content.decode()
    assert "update_employee" in page and "city: &#x27;Kiruna&#x27; → &#x27;Haparanda&#x27;" in page
    assert "What to do: Check the document category" in page
    assert page.count(">Retry</button>") == 1  # the failed step only
    viewer_page = signed_in("viewer").get("/integrations/oneflow/contracts/41/").content.decode()
    assert "What to do" in viewer_page and ">Retry</button>" not in viewer_page
    assert operator.get("/integrations/oneflow/contracts/99/").status_code == 404


def test_retry_is_for_operators_with_csrf_resets_only_the_failed_step_and_is_audited(
    setup: Setup,
) -> None:
    contract, done, failed = _failed_contract(setup.integration)
    url = f"/integrations/oneflow/contracts/41/steps/{failed.pk}/retry/"
    assert signed_in("viewer").post(url).status_code == 403
    operator = signed_in("operator")
    assert operator.post(url).status_code == 403  # no CSRF token
    operator.get("/integrations/oneflow/contracts/41/")
    token = operator.cookies["csrftoken"].value
    answer = operator.post(url, HTTP_X_CSRFTOKEN=token)
    assert answer.status_code == 302
    failed.refresh_from_db()
    done.refresh_from_db()
    assert failed.status == "pending" and failed.attempts == 3
    assert done.status == "done"
    assert ContractDelivery.objects.get(callback_id="cb-1").processed is None
    job = JobRun.objects.get(kind=JobRun.Kind.CONTRACT)
    assert job.key == "oneflow.41" and job.started_by == "operator-user"
    event = AuditEvent.objects.get(action="contract.step_retried")
    assert event.object_key == "oneflow:41" and event.after["step"] == "upload_signed"
    again = operator.post(url, HTTP_X_CSRFTOKEN=token, follow=True).content.decode()
    assert "not failed: nothing to retry" in again
    assert JobRun.objects.filter(kind=JobRun.Kind.CONTRACT).count() == 1
    assert contract.steps.count() == 2


# --- a step failing for good lands on the employee's ticket --------------------------------


def _unique_employee(flex: FlexSimulator, skip: int = 0) -> dict[str, Any]:
    employees = list(flex.store.employees())
    numbers = [e["employment"][0]["employmentNumber"] for e in employees]
    unique = [e for e, n in zip(employees, numbers, strict=True) if numbers.count(n) == 1]
    return unique[skip]


def _publish_fails(setup: Setup, employee: dict[str, Any], name: str) -> ContractStep:
    """A contract about `employee` whose Pending PDF cannot be uploaded: the category is missing."""
    number = str(employee["employment"][0]["employmentNumber"])
    headers = {"x-oneflow-api-token": TOKEN, "x-oneflow-user-email": HR}
    answer = httpx2.post(f"{setup.oneflow.url}/contracts/create", headers=headers, json={
        "workspace_id": 1, "template_id": 200, "name": name,
        "data_fields": [{"custom_id": "employee_number", "value": number}],
    })  # fmt: skip
    assert answer.status_code == 200, answer.text
    contract_id = int(answer.json()["id"])
    ContractDelivery.objects.create(
        integration=setup.integration, callback_id=f"cb-{contract_id}", contract_id=contract_id,
        event_type="contract:publish",
    )  # fmt: skip
    now = timezone.now()
    job = JobRun.objects.create(kind=JobRun.Kind.CONTRACT, key=f"oneflow.{contract_id}",
                                scheduled_for=now, started_by="tests", queued=now)  # fmt: skip
    run_contract_job(job, is_last_attempt=True)
    return ContractStep.objects.get(contract__contract_id=contract_id, kind="upload_pending")


def _hold(setup: Setup, employee: dict[str, Any]) -> Person:
    return Person.objects.create(
        source=setup.integration.source, person_id=str(employee["id"]),
        employee_number=str(employee["employment"][0]["employmentNumber"]),
        display_name=f"{employee['firstName']} {employee['lastName']}", content_hash="x",
    )  # fmt: skip


@pytest.fixture
def uncategorised(
    monkeypatch: pytest.MonkeyPatch, oneflow_sim: OneflowSimulator
) -> Iterator[Setup]:
    with FlexSimulator(DATASET, credentials=Credentials("acme", "api", "flex-pw")) as flex:
        yield _setup(monkeypatch, flex, oneflow_sim, document_category="Oneflow Contracts")


def test_a_step_failed_for_good_opens_then_comments_on_the_employees_ticket(
    uncategorised: Setup,
) -> None:
    employee = _unique_employee(uncategorised.flex)
    person = _hold(uncategorised, employee)
    first = _publish_fails(uncategorised, employee, "Employment contract - first")
    assert first.status == "failed" and "no document category 'Oneflow Contracts'" in first.outcome
    (ticket,) = Ticket.objects.filter(person=person)
    assert ticket.kind == "contract" and ticket.is_open
    assert ticket.title == f"Contract: {person.display_name} ({person.employee_number})"
    (comment,) = TicketEntry.objects.filter(ticket=ticket, kind=TicketEntry.Kind.COMMENT)
    assert "Employment contract - first: the step upload_pending failed" in comment.text
    assert "What to do: Check that the Flex HRM API user may upload" in comment.text
    assert comment.details["step"] == "upload_pending"
    assert AuditEvent.objects.filter(action="ticket.opened", object_key=str(ticket.pk)).exists()

    _publish_fails(uncategorised, employee, "Employment contract - second")
    assert Ticket.objects.filter(person=person).count() == 1  # the open ticket, commented on
    texts = [e.text for e in TicketEntry.objects.filter(ticket=ticket).order_by("pk")]
    assert len(texts) == 2 and "Employment contract - second" in texts[1]


def test_no_ticket_when_hrsync_does_not_hold_the_employee(uncategorised: Setup) -> None:
    step = _publish_fails(uncategorised, _unique_employee(uncategorised.flex, 1), "Stranger")
    assert step.status == "failed"
    assert step.contract.employee_number  # known from Flex HRM, yet no person in hrsync
    assert not Ticket.objects.exists()
