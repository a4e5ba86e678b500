"""The REST API's records: tickets worked on by an operator, triggers and channels kept by an
admin (a test notification to a real webhook receiver), the audit log filtered and exported,
pages with a capped count, and the docs page that loads nothing from elsewhere."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from tests.integration.api_data import Dataset, client_for
from tests.webhook_receiver import WebhookReceiver, run_webhook_receiver

from hrsync.app.api import paging
from hrsync.app.console.channel_secrets import is_stored_in_console
from hrsync.app.models import AuditEvent, Channel, Delivery, Ticket, Trigger

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]

HOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CHAT_URL = "https://hooks.slack.test/services/T000/B000/chat-url-secret-part"


@pytest.fixture
def admin(users: dict[str, User]) -> Client:
    return client_for(users["admin"])


@pytest.fixture
def operator(users: dict[str, User]) -> Client:
    return client_for(users["operator"])


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with run_webhook_receiver(secret=HOOK_SECRET) as running:
        yield running


def send(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(
        path, data=json.dumps(body or {}), content_type="application/json"
    )


def test_an_operator_comments_assigns_prioritises_and_closes_a_ticket(
    operator: Client, data: Dataset
) -> None:
    url = f"/api/tickets/{data.ticket.pk}"
    listed = operator.get("/api/tickets", {"is_open": "true", "q": "1001"}).json()["items"]
    assert [t["id"] for t in listed] == [data.ticket.pk]
    assert listed[0]["comment_count"] == 1 and listed[0]["source"] == "Flex HRM"
    commented = send(operator, "post", f"{url}/comments", {"text": "Laptop ordered."}).json()
    assert commented["comments"][-1] == {
        "author": "operator",
        "text": "Laptop ordered.",
        "created": commented["comments"][-1]["created"],
    }
    assert commented["comment_count"] == 2
    assigned = send(operator, "post", f"{url}/assign", {"user": "admin", "group": "operator"})
    assert assigned.json()["assignee"] == "admin"
    assert (
        send(operator, "post", f"{url}/priority", {"priority": "urgent"}).json()["priority"]
        == "urgent"
    )
    assert send(operator, "post", f"{url}/priority", {"priority": "meh"}).status_code == 422
    closed = send(operator, "post", f"{url}/close", {"text": "All set."}).json()
    assert closed["status"] == "closed" and closed["closed"]
    again = send(operator, "post", f"{url}/close", {"text": "Again."})
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_open"
    assert operator.get("/api/tickets", {"is_open": "true"}).json()["count"] == 0
    assert operator.get("/api/tickets", {"status": "closed"}).json()["count"] == 1
    actions = AuditEvent.objects.filter(object_key=str(data.ticket.pk)).values_list(
        "action", "actor"
    )
    assert set(actions) == {
        ("ticket.commented", "operator"),
        ("ticket.assigned", "operator"),
        ("ticket.priority_set", "operator"),
        ("ticket.closed", "operator"),
    }


def test_triggers_are_validated_created_replaced_and_deleted(admin: Client, data: Dataset) -> None:
    rule = {
        "event": "ticket.created",
        "conditions": [{"field": "source", "op": "equals", "value": "FlexHR"}],
        "actions": [{"do": "provision", "connection": "nowhere"}],
    }
    checked = send(admin, "post", "/api/triggers/validate", rule).json()
    assert checked["ok"] is False and "nowhere" in " ".join(checked["problems"])
    refused = send(admin, "post", "/api/triggers", rule | {"name": "provision-joiners"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_trigger"
    assert isinstance(refused.json()["error"]["details"], list)
    rule["actions"] = [{"do": "provision", "connection": "ad"}]
    assert send(admin, "post", "/api/triggers/validate", rule).json() == {
        "ok": True,
        "problems": [],
    }
    created = send(admin, "post", "/api/triggers", rule | {"name": "provision-joiners"})
    assert created.status_code == 201, created.content
    assert created.json()["actions"] == [{"do": "provision", "connection": "ad"}]
    twice = send(admin, "post", "/api/triggers", rule | {"name": "provision-joiners"})
    assert twice.status_code == 409
    replaced = send(admin, "put", "/api/triggers/provision-joiners", rule | {"enabled": False})
    assert replaced.json()["enabled"] is False
    assert Trigger.objects.get(name="provision-joiners").is_enabled is False
    assert admin.delete("/api/triggers/provision-joiners").status_code == 204
    assert admin.get("/api/triggers/provision-joiners").status_code == 404


def test_a_channel_signs_with_the_secret_entered_through_the_api(
    admin: Client, operator: Client, receiver: WebhookReceiver
) -> None:
    body = {"name": "ops", "kind": "webhook", "settings": {"url": receiver.url}}
    refused = send(admin, "post", "/api/channels", body)
    assert refused.status_code == 422  # a webhook needs its signing secret
    created = send(admin, "post", "/api/channels", body | {"secret": HOOK_SECRET})
    assert created.status_code == 201, created.content
    row = Channel.objects.get(name="ops")
    assert row.settings["secret_env"] == f"HRSYNC_CHANNEL_{row.pk}_SECRET"
    assert is_stored_in_console(row)  # the console shows and edits it as one of its own
    assert created.json()["settings"]["secret_env"] == row.settings["secret_env"]
    assert created.json()["secret_set"] is True and HOOK_SECRET not in created.content.decode()
    result = send(operator, "post", "/api/channels/ops/test", {"template": "run_held"}).json()
    assert result == {"ok": True, "message": "sent"}
    (request,) = receiver.requests
    assert request.is_verified is True  # signed with the secret stored encrypted
    assert row.settings["secret_env"] not in os.environ  # read from the channel, not the env
    kept = send(
        admin, "put", "/api/channels/ops", {"kind": "webhook", "settings": body["settings"]}
    )
    assert kept.json()["secret_set"] is True
    assert Channel.objects.get(name="ops").settings["secret_env"] == row.settings["secret_env"]
    listed = admin.get("/api/channels").json()["items"]
    assert listed[0]["last_delivery"]["status"] == "sent"
    unknown = send(operator, "post", "/api/channels/ops/test", {"template": "nope"})
    assert unknown.status_code == 422


def test_a_chat_url_is_write_only_and_kept_when_settings_change(admin: Client) -> None:
    body = {"name": "chat", "kind": "slack", "settings": {"url": CHAT_URL}}
    created = send(admin, "post", "/api/channels", body)
    assert created.status_code == 201 and "url" not in created.json()["settings"]
    assert "hooks.slack.test" in created.json()["destination"]
    changed = send(
        admin, "put", "/api/channels/chat", {"kind": "slack", "settings": {"max_attempts": 2}}
    )
    assert changed.status_code == 200, changed.content
    assert Channel.objects.get(name="chat").settings == {"url": CHAT_URL, "max_attempts": 2}
    as_secret = {"name": "teams", "kind": "teams", "settings": {}, "secret": CHAT_URL}
    assert send(admin, "post", "/api/channels", as_secret).status_code == 201
    teams = Channel.objects.get(name="teams")
    assert teams.settings == {"url_env": f"HRSYNC_CHANNEL_{teams.pk}_SECRET"}
    everything = admin.get("/api/channels").content + admin.get("/api/audit").content
    assert b"chat-url-secret-part" not in everything


def test_a_suspended_channel_is_resumed(admin: Client, data: Dataset) -> None:
    Channel.objects.filter(name="hooks").update(
        consecutive_failures=5, suspended_reason="kept failing"
    )
    assert admin.get("/api/channels/hooks").json()["state"] == "suspended"
    assert send(admin, "post", "/api/channels/hooks/reset").json()["state"] == "ok"
    assert admin.delete("/api/channels/hooks").status_code == 204
    assert not Delivery.objects.exists()


def test_the_audit_log_is_filtered_paged_and_exported(admin: Client, data: Dataset) -> None:
    send(admin, "patch", "/api/sources/hr", {"schedule": "*/5 * * * *"})
    send(admin, "post", "/api/connections/ad/deactivate")
    AuditEvent.objects.create(
        actor="=cmd|' /C calc'!A0", action="change.update", object_type="account", person_id="p-1"
    )
    by_connection = admin.get("/api/audit", {"connection": "ad"}).json()
    assert {e["action"] for e in by_connection["items"]} == {
        "connection.deactivated",
        "change.disable",
    }
    kinds = admin.get("/api/audit", {"action": "connection."}).json()["items"]
    assert [e["action"] for e in kinds] == ["connection.deactivated"]
    mine = admin.get("/api/audit", {"actor": "admin"}).json()["items"]
    assert [e["action"] for e in mine] == ["connection.deactivated", "source.updated"]
    assert mine[1]["before"]["schedule"] == "" and mine[1]["after"]["schedule"] == "*/5 * * * *"
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    assert admin.get("/api/audit", {"created_from": later}).json()["count"] == 0
    assert admin.get("/api/audit", {"person": "p-1"}).json()["count"] == 1
    export = admin.get("/api/audit.csv", {"actor": "=cmd|' /C calc'!A0"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:4] == ["id", "created", "actor", "action"]
    assert rows[1][2] == "'=cmd|' /C calc'!A0"  # never a formula in a spreadsheet


def test_pages_count_up_to_a_cap(
    admin: Client, data: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    AuditEvent.objects.bulk_create(
        [AuditEvent(actor="system", action="test.event", object_type="x") for _ in range(7)]
    )
    few = admin.get("/api/audit", {"action": "test.event", "limit": 3}).json()
    assert (len(few["items"]), few["count"], few["is_count_capped"]) == (3, 7, False)
    monkeypatch.setattr(paging, "SPARSE", 2)  # as if the seven were thousands
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    first = admin.get("/api/audit", {"action": "test.event", "limit": 3}).json()
    assert (len(first["items"]), first["count"], first["is_count_capped"]) == (3, 5, True)
    last = admin.get("/api/audit", {"action": "test.event", "limit": 3, "offset": 6}).json()
    assert (len(last["items"]), last["count"], last["is_count_capped"]) == (1, 7, False)
    ids = [e["id"] for e in admin.get("/api/audit", {"action": "test.event"}).json()["items"]]
    assert ids == sorted(ids, reverse=True)


def test_ticket_lists_make_a_fixed_number_of_queries(
    admin: Client, data: Dataset, django_assert_max_num_queries: Any
) -> None:
    for number in range(20):
        Ticket.objects.create(
            source=data.source, person=data.person, kind="update", title=f"Update {number}"
        )
    with django_assert_max_num_queries(8):
        page = admin.get("/api/tickets", {"limit": 20}).json()
    assert len(page["items"]) == 20


def test_the_docs_page_lists_the_operations_and_loads_no_script(admin: Client) -> None:
    page = Client().get("/api/docs")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "<script" not in html and "cdn" not in html.lower()
    assert "/api/connections/{key}/simulate" in html and "operator" in html
    schema = Client().get("/api/openapi.json").json()
    assert schema["components"]["schemas"]["Error"]["properties"]["error"]
