"""The REST API's configuration flow: a Flex HRM source against the simulator (test, companies,
import), a connection walked through its steps, simulated, exported, scheduled, activated,
deactivated and deleted, and the runs it leaves (a held one approved or rejected)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from tests.integration.api_data import (
    TARGET_SETTINGS,
    client_for,
    make_dataset,
)

from hrsync.app.models import AuditEvent, Connection, Person, Run
from hrsync.app.security import secrets
from hrsync.domain.plan import Plan
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.scim import ScimServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]

PEOPLE = 12
FLEX_USER = Credentials(instance="acme", username="api", password="flex-secret-for-tests")


@pytest.fixture
def admin(users: dict[str, User]) -> Client:
    return client_for(users["admin"])


@pytest.fixture
def flex() -> Iterator[FlexSimulator]:
    simulator = FlexSimulator(
        generate_dataset(count=PEOPLE, seed=3), credentials=FLEX_USER, host="127.0.0.1", port=0
    )
    simulator.start()
    yield simulator
    simulator.stop()


def send(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = getattr(client, method)(
        path, data=json.dumps(body or {}), content_type="application/json"
    )
    return response


def flex_source(admin: Client, url: str, **settings: Any) -> dict[str, Any]:
    body = {
        "key": "flex",
        "settings": {"url": url, "instance": "acme", "username": "api", "max_retries": 0}
        | settings,
        "password": FLEX_USER.password,
        "schedule": "*/2 * * * *",
    }
    response = send(admin, "post", "/api/sources", body)
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_a_flex_source_is_tested_lists_its_companies_and_imports(
    admin: Client, flex: FlexSimulator
) -> None:
    created = flex_source(admin, flex.url)
    assert created["password_set"] is True and "password" not in created["settings"]
    assert send(admin, "post", "/api/sources/flex/test").json()["ok"] is True
    companies = admin.get("/api/sources/flex/companies").json()["items"]
    assert len(companies) >= 2 and not any(c["is_selected"] for c in companies)
    chosen = companies[0]["id"]
    patched = send(admin, "patch", "/api/sources/flex", {"settings": {"companies": [chosen]}})
    assert patched.json()["settings"]["companies"] == [chosen]
    picked = admin.get("/api/sources/flex/companies").json()["items"]
    assert [c["id"] for c in picked if c["is_selected"]] == [chosen]
    send(admin, "patch", "/api/sources/flex", {"settings": {"companies": None}})
    bad = send(admin, "patch", "/api/sources/flex", {"schedule": "every tuesday"})
    assert bad.status_code == 422 and set(bad.json()["error"]["details"]) == {"schedule"}
    imported = send(admin, "post", "/api/sources/flex/import", {"full": True}).json()
    assert imported["status"] == "succeeded", imported
    assert imported["counts"]["new"] == Person.objects.count() > 0
    assert admin.get("/api/sources/flex").json()["last_import"]["id"] == imported["id"]
    assert AuditEvent.objects.filter(action="source.imported", actor="admin").exists()


def test_a_wrong_password_fails_the_test_and_the_import_says_why(
    admin: Client, flex: FlexSimulator
) -> None:
    flex_source(admin, flex.url)
    send(admin, "patch", "/api/sources/flex", {"password": "not-it"})
    check = send(admin, "post", "/api/sources/flex/test").json()
    assert check["ok"] is False and check["message"]
    imported = send(admin, "post", "/api/sources/flex/import").json()
    assert imported["status"] == "failed" and imported["error"]


def test_people_are_found_by_name_number_and_email(admin: Client) -> None:
    data = make_dataset()
    for q in ("berg", "1001", "anna.berg@"):
        found = admin.get("/api/people", {"q": q}).json()
        assert [p["id"] for p in found["items"]] == [data.person.pk], q
    assert admin.get("/api/people", {"q": "nobody"}).json() == {
        "items": [],
        "count": 0,
        "is_count_capped": False,
    }
    detail = admin.get(f"/api/people/{data.person.pk}").json()
    assert detail["fields"]["title"] == "Controller"
    assert detail["links"][0]["connection"] == "ad"
    assert detail["tickets"][0]["id"] == data.ticket.pk


def test_a_connection_is_configured_simulated_scheduled_activated_and_removed(
    admin: Client,
) -> None:
    data = make_dataset()
    created = send(
        admin, "post", "/api/connections", {"key": "ad2", "source": "hr", "name": "AD 2"}
    )
    assert created.status_code == 201 and created.json()["state"] == "draft"
    assert send(admin, "post", "/api/connections/ad2/simulate").status_code == 409
    target = {"settings": TARGET_SETTINGS, "password": "bind-secret-typed-in"}
    assert send(admin, "put", "/api/connections/ad2/steps/target", target).status_code == 200
    assert send(admin, "put", "/api/connections/ad2/steps/mapping").status_code == 200
    scope = {"safety": {"disable": {"count": 5}}, "companies": []}
    scoped = send(admin, "put", "/api/connections/ad2/steps/scope", scope).json()
    assert (scoped["state"], scoped["step"]) == ("simulation", 5)
    refused = send(admin, "post", "/api/connections/ad2/activate", {"schedule": "0 6 * * *"})
    assert refused.status_code == 409
    simulated = send(admin, "post", "/api/connections/ad2/simulate").json()
    assert simulated["run"]["status"] == "simulated"
    assert simulated["plan"]["counts"]["create"] == 1
    (person,) = simulated["plan"]["items"]
    assert person["employee_number"] == data.person.employee_number
    assert person["changes"][0]["kind"] == "create"
    given = {"name": "givenName", "label": "First name", "old": None, "new": "Anna"}
    assert given in person["changes"][0]["attributes"]
    assert admin.get("/api/connections/ad2/plan", {"q": "nobody"}).json()["items"] == []
    assert admin.get("/api/connections/ad2/plan", {"kind": "create"}).json()["count"] == 1
    exported = admin.get("/api/connections/ad2/export", {"format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert {"employee_number": "1001", "attribute": "givenName", "new": "Anna"}.items() <= rows[
        [r["attribute"] for r in rows].index("givenName")
    ].items()
    as_json = json.loads(admin.get("/api/connections/ad2/export", {"format": "json"}).content)
    assert as_json["people"][0]["person_id"] == data.person.person_id
    preview = admin.get("/api/connections/ad2/schedule", {"schedule": "0 6 * * 1-5"}).json()
    assert len(preview["next_runs"]) == 5 and preview["time_zone"] == "Europe/Stockholm"
    invalid = admin.get("/api/connections/ad2/schedule", {"schedule": "every day"})
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "invalid_values"
    active = send(admin, "post", "/api/connections/ad2/activate", {"schedule": "0 6 * * 1-5"})
    assert active.json()["state"] == "active" and active.json()["next_sync"]
    listed = admin.get("/api/connections", {"q": "AD 2", "state": "active"}).json()["items"]
    assert [c["key"] for c in listed] == ["ad2"]
    assert send(admin, "post", "/api/connections/ad2/deactivate").json()["state"] == "deactivated"
    assert admin.delete("/api/connections/ad2?confirm=ad").status_code == 409
    assert admin.delete("/api/connections/ad2?confirm=ad2").status_code == 204
    assert not Connection.objects.filter(key="ad2").exists()
    actions = set(AuditEvent.objects.filter(connection_key="ad2").values_list("action", flat=True))
    assert {"connection.created", "connection.activated", "connection.deleted"} <= actions


def test_editing_the_target_step_resets_the_progress(admin: Client) -> None:
    make_dataset()
    send(admin, "post", "/api/connections/ad/simulate")
    target = {"settings": TARGET_SETTINGS | {"users_ou": "OU=People"}}
    reset = send(admin, "put", "/api/connections/ad/steps/target", target).json()
    assert (reset["state"], reset["step"]) == ("draft", 3)
    assert [s["is_done"] for s in reset["steps"]] == [True, True, False, False, False, False]
    assert send(admin, "post", "/api/connections/ad/activate").status_code == 409


def test_a_connection_test_reports_an_unreachable_directory(admin: Client) -> None:
    make_dataset()
    result = send(admin, "post", "/api/connections/ad/test").json()
    assert result["ok"] is False and "cannot be reached" in result["message"]


def test_runs_are_listed_and_a_held_run_is_rejected_or_refused(
    admin: Client, users: dict[str, User]
) -> None:
    data = make_dataset()
    runs = admin.get("/api/runs", {"connection": "ad", "status": "held"}).json()
    assert [r["id"] for r in runs["items"]] == [data.held_run.pk]
    assert admin.get("/api/runs", {"connection": "nope"}).json()["count"] == 0
    detail = admin.get(f"/api/runs/{data.held_run.pk}").json()
    assert detail["outcomes"] == {"": 1} and detail["errors"] == []
    plan = admin.get(f"/api/runs/{data.held_run.pk}/plan").json()
    assert plan["items"][0]["changes"][0]["kind"] == "disable"
    operator = client_for(users["operator"])
    rejected = send(operator, "post", f"/api/runs/{data.held_run.pk}/reject", {"reason": "no"})
    assert rejected.json()["status"] == "failed"
    assert "rejected by operator" in rejected.json()["error"]
    for decision in ("reject", "approve"):
        again = send(operator, "post", f"/api/runs/{data.held_run.pk}/{decision}")
        assert again.status_code == 409 and "not held" in again.json()["error"]["message"]
    # Approving another held run while the directory is down: 502, and the run stays held.
    empty = Plan(()).fingerprint()  # a held run's stored plan, here an empty one
    held = Run.objects.create(connection=data.connection, status=Run.Status.HELD, fingerprint=empty)
    applying = send(operator, "post", f"/api/runs/{held.pk}/approve")
    assert applying.status_code == 502
    assert "cannot be reached" in applying.json()["error"]["message"]
    held.refresh_from_db()
    assert held.status == Run.Status.HELD


def test_run_now_and_provision_now_record_a_failed_run_when_the_directory_is_down(
    admin: Client,
) -> None:
    data = make_dataset()
    ran = send(admin, "post", "/api/connections/ad/run").json()
    assert ran["status"] == "failed" and "cannot be reached" in ran["error"]
    started = AuditEvent.objects.get(action="connection.run")
    assert (started.actor, started.after["run"]) == ("admin", ran["id"])
    provisioned = send(admin, "post", f"/api/people/{data.person.pk}/provision").json()
    (run,) = provisioned["runs"]
    assert (run["connection"], run["focus"], run["started_by"]) == ("ad", ["p-1001"], "person")
    assert Run.objects.get(pk=run["id"]).status == "failed"
    Connection.objects.filter(key="ad").update(state=Connection.State.DEACTIVATED)
    assert send(admin, "post", f"/api/people/{data.person.pk}/provision").status_code == 409
    one = send(admin, "post", f"/api/people/{data.person.pk}/provision", {"connection": "ad"})
    assert one.status_code == 409 and "only an active connection" in one.json()["error"]["message"]


def test_a_scim_connection_through_the_api_keeps_its_token_write_only(
    admin: Client, scim2_server: ScimServer
) -> None:
    make_dataset()
    created = send(admin, "post", "/api/connections", {"key": "wt", "source": "hr", "kind": "scim"})
    assert created.status_code == 201 and created.json()["kind"] == "scim"
    settings = {"url": scim2_server.url, "profile": "winningtemp", "token": "ignored-here"}
    step = {"settings": settings, "password": scim2_server.token}
    saved = send(admin, "put", "/api/connections/wt/steps/target", step)
    assert saved.status_code == 200, saved.content
    shown = admin.get("/api/connections/wt").json()
    assert shown["password_set"] is True and shown["settings"]["profile"] == "winningtemp"
    assert "token" not in shown["settings"] and scim2_server.token not in json.dumps(shown)
    stored = Connection.objects.get(key="wt")
    assert secrets.decrypt(stored.secret) == scim2_server.token


def test_compliance_through_the_api_is_for_admins_and_audited(
    admin: Client, users: dict[str, User], scim2_server: ScimServer
) -> None:
    make_dataset()
    send(admin, "post", "/api/connections", {"key": "wt", "source": "hr", "kind": "scim"})
    step = {"settings": {"url": scim2_server.url}, "password": scim2_server.token}
    assert send(admin, "put", "/api/connections/wt/steps/target", step).status_code == 200
    operator = client_for(users["operator"])
    assert send(operator, "post", "/api/connections/wt/compliance").status_code == 403

    read_only = send(admin, "post", "/api/connections/wt/compliance")
    assert read_only.status_code == 200, read_only.content
    report = read_only.json()
    assert report["passed"] > 0 and report["passed"] + report["failed"] <= len(report["checks"])
    written = send(admin, "post", "/api/connections/wt/compliance", {"with_writes": True}).json()
    assert len(written["checks"]) > len(report["checks"])  # the create, update and delete checks
    events = AuditEvent.objects.filter(action="connection.compliance_checked", connection_key="wt")
    assert [event.after["with_writes"] for event in events.order_by("pk")] == [False, True]

    none = send(admin, "post", "/api/connections/ad/compliance")
    assert none.status_code == 409 and "no compliance checks" in none.json()["error"]["message"]
