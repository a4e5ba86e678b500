"""The REST API's doors: every operation's role (anonymous 401, a role too low 403, the role
itself let in), API tokens (shown once, hashed, revoked, expired), the session with CSRF, one
error shape, and no secret in any answer or audit event."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from tests.integration.api_data import (
    BIND_PASSWORD,
    ROLES,
    SOURCE_PASSWORD,
    SOURCE_SETTINGS,
    TARGET_SETTINGS,
    Dataset,
    client_for,
    token_for,
)

from hrsync.app.api.auth import ROLE_KEY
from hrsync.app.models import ApiToken, AuditEvent, Channel, Connection, Source
from hrsync.app.security.secrets import decrypt
from hrsync.app.security.tokens import SHOWN_PREFIX, token_digest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]

CHANNEL_SECRET = "whsec_channel-secret-for-tests"
NEW_PASSWORD = "new-Pa55word-typed-in"
SECRETS = (SOURCE_PASSWORD, BIND_PASSWORD, CHANNEL_SECRET, NEW_PASSWORD)

# (method, path, body, the least role allowed); paths name the dataset's keys and ids.
OPERATIONS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("get", "/api/me", None, "viewer"),
    ("get", "/api/tokens", None, "viewer"),
    ("post", "/api/tokens", {"name": "laptop"}, "viewer"),
    ("delete", "/api/tokens/{missing}", None, "viewer"),
    ("get", "/api/sources", None, "viewer"),
    ("get", "/api/sources/{source}", None, "viewer"),
    ("post", "/api/sources", {"key": "hr2", "settings": SOURCE_SETTINGS, "password": "x"}, "admin"),
    ("patch", "/api/sources/{source}", {"schedule": "*/5 * * * *"}, "admin"),
    ("post", "/api/sources/{source}/test", None, "operator"),
    ("get", "/api/sources/{source}/companies", None, "operator"),
    ("post", "/api/sources/{source}/import", {}, "operator"),
    ("post", "/api/sources/{source}/uploads", {}, "operator"),
    ("post", "/api/sources/{source}/uploads/{missing}/confirm", {}, "operator"),
    ("get", "/api/connections", None, "viewer"),
    ("get", "/api/connections/{connection}", None, "viewer"),
    ("post", "/api/connections", {"key": "ad2", "source": "hr"}, "admin"),
    ("put", "/api/connections/{connection}/steps/source", {"source": "hr"}, "admin"),
    ("put", "/api/connections/{connection}/steps/target", {"settings": TARGET_SETTINGS}, "admin"),
    ("put", "/api/connections/{connection}/steps/mapping", None, "admin"),
    ("put", "/api/connections/{connection}/steps/scope", {}, "admin"),
    ("post", "/api/connections/{connection}/test", None, "operator"),
    (
        "post",
        "/api/connections/{connection}/steps/target/test",
        {"settings": TARGET_SETTINGS},
        "admin",
    ),
    ("post", "/api/connections/{connection}/compliance", {"with_writes": False}, "admin"),
    ("post", "/api/connections/{connection}/simulate", None, "operator"),
    ("get", "/api/connections/{connection}/plan", None, "viewer"),
    ("get", "/api/connections/{connection}/export", None, "viewer"),
    ("post", "/api/connections/{connection}/run", None, "operator"),
    ("get", "/api/connections/{connection}/schedule?schedule=*/15+*+*+*+*", None, "viewer"),
    ("get", "/api/connections/{connection}/mapping-test?employee_number=1001", None, "viewer"),
    ("post", "/api/connections/{connection}/activate", {"schedule": "0 7 * * *"}, "admin"),
    ("post", "/api/connections/{connection}/deactivate", None, "admin"),
    ("delete", "/api/connections/{connection}?confirm={connection}", None, "admin"),
    ("get", "/api/runs", None, "viewer"),
    ("get", "/api/runs/{run}", None, "viewer"),
    ("get", "/api/runs/{run}/plan", None, "viewer"),
    ("get", "/api/runs/{run}/export?format=json", None, "viewer"),
    ("post", "/api/runs/{run}/approve", None, "operator"),
    ("post", "/api/runs/{run}/reject", {"reason": "too many"}, "operator"),
    ("get", "/api/tickets", None, "viewer"),
    ("get", "/api/tickets/{ticket}", None, "viewer"),
    ("post", "/api/tickets/{ticket}/comments", {"text": "Called IT."}, "operator"),
    ("post", "/api/tickets/{ticket}/close", {"text": "Done."}, "operator"),
    ("post", "/api/tickets/{ticket}/assign", {"user": "operator"}, "operator"),
    ("post", "/api/tickets/{ticket}/priority", {"priority": "high"}, "operator"),
    ("get", "/api/people", None, "viewer"),
    ("get", "/api/people/{person}", None, "viewer"),
    ("post", "/api/people/{person}/provision", {"connection": "ad"}, "operator"),
    (
        "post",
        "/api/people",
        {"given_name": "Kim", "family_name": "Konsult", "employee_number": "K-1"},
        "admin",
    ),
    ("patch", "/api/people/{person}", {"title": "CEO"}, "admin"),
    ("get", "/api/triggers", None, "viewer"),
    ("get", "/api/triggers/{trigger}", None, "viewer"),
    ("post", "/api/triggers/validate", {"event": "ticket.created"}, "viewer"),
    ("post", "/api/triggers", {"name": "t2", "event": "run.failed", "actions": []}, "admin"),
    ("put", "/api/triggers/{trigger}", {"event": "ticket.created", "actions": []}, "admin"),
    ("delete", "/api/triggers/{trigger}", None, "admin"),
    ("get", "/api/channels", None, "viewer"),
    ("get", "/api/channels/{channel}", None, "viewer"),
    ("post", "/api/channels", {"name": "c2", "kind": "slack", "settings": {}}, "admin"),
    ("put", "/api/channels/{channel}", {"kind": "webhook", "settings": {}}, "admin"),
    ("delete", "/api/channels/{channel}", None, "admin"),
    ("post", "/api/channels/{channel}/reset", None, "admin"),
    ("post", "/api/channels/{channel}/test", {}, "operator"),
    ("post", "/api/integrations/{integration}/check", None, "admin"),
    ("get", "/api/integrations/{integration}/contracts", None, "viewer"),
    ("get", "/api/audit", None, "viewer"),
    ("get", "/api/audit.csv", None, "viewer"),
]


CHECKS_ONLY = {
    "/api/sources/{source}/test",
    "/api/connections/{connection}/test",
    "/api/connections/{connection}/steps/target/test",
    "/api/triggers/validate",
}
"""POSTs that change nothing (and are not audited)."""


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape, with the HTTP status repeated in it."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    assert error["details"] is None or isinstance(error["details"], list | dict)
    if code is not None:
        assert error["code"] == code
    return dict(error)


def shape(path: str) -> str:
    """A path with its parameters blanked and its query dropped."""
    return re.sub(r"\{\w+\}", "{}", path.split("?", maxsplit=1)[0])


def test_the_operations_table_covers_every_operation_in_the_schema(users: dict[str, User]) -> None:
    schema = client_for(users["viewer"]).get("/api/openapi.json").json()
    declared = {
        (method, shape(path)): operation[ROLE_KEY]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert declared == {(method, shape(path)): role for method, path, _, role in OPERATIONS}


@pytest.mark.parametrize(("method", "path", "body", "role"), OPERATIONS)
def test_each_operation_admits_its_role_and_no_one_below(
    users: dict[str, User],
    data: Dataset,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    role: str,
) -> None:
    url = path.format(**data.ids())
    assert_error(call(Client(), method, url, body), 401, "unauthenticated")
    for lower in ROLES[: ROLES.index(role)]:
        assert_error(call(client_for(users[lower]), method, url, body), 403, "forbidden")
    response = call(client_for(users[role]), method, url, body)
    assert response.status_code not in (401, 403, 500), response.content
    if response.status_code >= 400:
        assert_error(response, response.status_code)
    elif method != "get" and path not in CHECKS_ONLY:
        assert AuditEvent.objects.filter(actor=role).exists(), "a change leaves an audit event"


def test_a_token_is_shown_once_and_only_its_hash_is_kept(users: dict[str, User]) -> None:
    viewer = client_for(users["viewer"])
    answer = viewer.post("/api/tokens", data={"name": "laptop"}, content_type="application/json")
    assert answer.status_code == 201 and answer["Cache-Control"] == "no-store"
    created = answer.json()
    token = created["token"]
    assert re.fullmatch(r"hrs_[A-Za-z0-9_-]{40}", token)
    assert created["prefix"] == token[:SHOWN_PREFIX]
    row = ApiToken.objects.get(pk=created["id"])
    assert row.digest == token_digest(token) != token
    listed = viewer.get("/api/tokens").content.decode()
    assert token not in listed and token_digest(token) not in listed
    assert created["prefix"] in listed
    assert token not in json.dumps(list(AuditEvent.objects.values("before", "after")))
    me = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/me").json()
    assert me == {"username": "viewer", "role": "viewer"}
    row.refresh_from_db()
    assert row.last_used is not None


def test_revoked_unknown_expired_and_malformed_tokens_are_refused(users: dict[str, User]) -> None:
    token = token_for(users["operator"])
    with_token = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert with_token.get("/api/me").status_code == 200
    row = ApiToken.objects.get(digest=token_digest(token))
    assert with_token.delete(f"/api/tokens/{row.pk}").status_code == 204
    assert_error(with_token.get("/api/me"), 401, "unauthenticated")
    unknown = Client(HTTP_AUTHORIZATION="Bearer hrs_" + "x" * 40)
    assert_error(unknown.get("/api/me"), 401)
    assert_error(Client(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz").get("/api/me"), 401)
    expired = token_for(users["operator"])
    ApiToken.objects.filter(digest=token_digest(expired)).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert_error(Client(HTTP_AUTHORIZATION=f"Bearer {expired}").get("/api/me"), 401)
    users["operator"].is_active = False
    users["operator"].save()
    assert_error(
        Client(HTTP_AUTHORIZATION=f"Bearer {token_for(users['operator'])}").get("/api/me"), 401
    )


def test_only_admins_see_and_revoke_other_users_tokens(users: dict[str, User]) -> None:
    token_for(users["viewer"], name="viewer's")
    operator, admin = client_for(users["operator"]), client_for(users["admin"])
    theirs = ApiToken.objects.get(name="viewer's")
    assert "viewer's" not in operator.get("/api/tokens?everyone=true").content.decode()
    assert_error(operator.delete(f"/api/tokens/{theirs.pk}"), 404, "not_found")
    assert "viewer's" in admin.get("/api/tokens?everyone=true").content.decode()
    assert admin.delete(f"/api/tokens/{theirs.pk}").status_code == 204
    revoked = AuditEvent.objects.get(action="token.revoked")
    assert (revoked.actor, revoked.before["user"]) == ("admin", "viewer")


def test_the_session_works_and_unsafe_methods_need_the_csrf_token(
    users: dict[str, User], data: Dataset
) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["operator"])
    assert browser.get("/api/tickets").status_code == 200
    url = f"/api/tickets/{data.ticket.pk}/comments"
    body = json.dumps({"text": "From the console."})
    refused = browser.post(url, data=body, content_type="application/json")
    assert_error(refused, 403, "csrf_failed")
    browser.get("/signin/")  # sets the CSRF cookie, as the console's pages do
    csrf = browser.cookies["csrftoken"].value
    done = browser.post(url, data=body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert done.status_code == 200, done.content
    anonymous = Client(enforce_csrf_checks=True)
    assert_error(anonymous.post(url, data=body, content_type="application/json"), 401)


def test_errors_have_one_shape(users: dict[str, User], data: Dataset) -> None:
    admin = client_for(users["admin"])
    assert_error(admin.get("/api/tickets/999999"), 404, "not_found")
    assert_error(admin.get("/api/sources/nope"), 404, "not_found")
    invalid = assert_error(admin.get("/api/tickets?limit=100000"), 422, "validation_failed")
    assert invalid["details"][0]["loc"][-1] == "limit"
    bad_json = admin.post(
        f"/api/tickets/{data.ticket.pk}/comments", data="{", content_type="application/json"
    )
    assert_error(bad_json, 400)
    settings = admin.post(
        "/api/sources",
        data={"key": "x", "settings": {"url": "ftp://nope"}},
        content_type="application/json",
    )
    details = assert_error(settings, 422, "invalid_settings")["details"]
    assert {"settings", "url"} <= {part for item in details for part in item["loc"]}
    activate = admin.post(f"/api/connections/{data.connection.key}/deactivate")
    assert activate.status_code == 200
    assert_error(admin.post(f"/api/connections/{data.connection.key}/deactivate"), 409, "conflict")
    unknown_user = admin.post(
        f"/api/tickets/{data.ticket.pk}/assign",
        data={"user": "nobody"},
        content_type="application/json",
    )
    assert_error(unknown_user, 400, "invalid")


def test_secrets_are_write_only_and_never_audited(users: dict[str, User], data: Dataset) -> None:
    admin = client_for(users["admin"])
    answers = [
        admin.post(
            "/api/sources",
            data={"key": "hr2", "settings": SOURCE_SETTINGS, "password": NEW_PASSWORD},
            content_type="application/json",
        ),
        admin.patch(
            "/api/sources/hr", data={"password": NEW_PASSWORD}, content_type="application/json"
        ),
        admin.put(
            "/api/connections/ad/steps/target",
            data={"settings": TARGET_SETTINGS, "password": NEW_PASSWORD},
            content_type="application/json",
        ),
        admin.post(
            "/api/channels",
            data={
                "name": "chat",
                "kind": "slack",
                "settings": {"url": "https://hooks.slack.test/services/T0/B0/" + CHANNEL_SECRET},
                "secret": CHANNEL_SECRET,
            },
            content_type="application/json",
        ),
    ]
    assert [a.status_code for a in answers] == [201, 200, 200, 201], [a.content for a in answers]
    assert answers[0].json()["password_set"] is True
    assert answers[2].json()["password_set"] is True
    assert answers[3].json()["secret_set"] is True
    assert decrypt(Source.objects.get(key="hr2").secret) == NEW_PASSWORD
    assert decrypt(Connection.objects.get(key="ad").secret) == NEW_PASSWORD
    assert decrypt(Channel.objects.get(name="chat").secret) == CHANNEL_SECRET
    reads = [
        admin.get(path)
        for path in (
            "/api/sources",
            "/api/sources/hr",
            "/api/sources/hr2",
            "/api/connections",
            "/api/connections/ad",
            "/api/channels",
            "/api/channels/chat",
            "/api/audit",
            "/api/audit.csv",
        )
    ]
    shown = b"".join(
        [a.content for a in answers]
        + [b"".join(r.streaming_content) if r.streaming else r.content for r in reads]
    )
    audited = json.dumps(list(AuditEvent.objects.values("before", "after")))
    for secret in SECRETS:
        assert secret.encode() not in shown, secret
        assert secret not in audited, secret
    stored = {"sources", "connections", "channels"}
    assert stored <= {
        event["object_type"] + "s" for event in AuditEvent.objects.values("object_type")
    }
