"""Console pages with the Django test client on a real database: every view's role, CSRF, secrets
never rendered back, tokens shown once, a formula-safe CSV export, keyset paging; sources against
the Flex HRM simulator and a test notification through a signature-verifying webhook receiver."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.contrib.auth.models import Group, User
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import Client
from django.utils import timezone
from tests.webhook_receiver import run_webhook_receiver

from hrsync.app.models import (
    ApiToken,
    AuditEvent,
    Channel,
    Connection,
    Person,
    Run,
    Source,
    Ticket,
    TicketEntry,
    Trigger,
)
from hrsync.app.security.secrets import decrypt, encrypt
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset

pytestmark = pytest.mark.django_db

FLEX_PASSWORD = "Flex-Pa55word-never-shown"
SMTP_PASSWORD = "Smtp-Pa55word-never-shown"
CHAT_URL = "https://hooks.slack.example/services/T0/B0/never-shown-path"
SECRETS = (FLEX_PASSWORD, SMTP_PASSWORD, CHAT_URL)
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class World:
    source: Source
    person: Person
    ticket: Ticket
    connection: Connection
    token: ApiToken

    def path(self, template: str) -> str:
        return template.format(t=self.ticket.pk, p=self.person.pk, k=self.token.pk)


def make_user(name: str, role: str) -> User:
    user = User.objects.create_user(name, email=f"{name}@example.org")  # signed in by force_login
    user.groups.add(Group.objects.get(name=role))
    return user


def text(response: HttpResponseBase) -> str:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return response.content.decode()


def signed_in(role: str, **options: bool) -> Client:
    client = Client(**options)
    client.force_login(make_user(f"{role}-user", role))
    return client


@pytest.fixture
def world() -> World:
    source = Source.objects.create(
        key="flex",
        kind="flexhrm",
        settings={
            "url": "http://127.0.0.1:9/api/",
            "username": "api",
            "instance": "acme",
            "max_retries": 0,
            "timeout_seconds": 2,
        },
        secret=encrypt(FLEX_PASSWORD),
    )
    person = Person.objects.create(
        source=source,
        person_id="p-1",
        employee_number="1001",
        display_name="Anna Berg",
        fields={"email": "anna.berg@example.org", "title": "Controller"},
        content_hash="x",
    )
    ticket = Ticket.objects.create(
        source=source, person=person, kind="joiner", title="Joiner: Anna Berg (1001)"
    )
    connection = Connection.objects.create(
        key="ad", source=source, kind="active_directory", state=Connection.State.SIMULATION
    )
    Trigger.objects.create(
        name="t1",
        event="ticket.created",
        conditions=[{"field": "created", "op": "equals", "value": "true"}],
        actions=[{"do": "comment", "text": "hello"}],
    )
    Channel.objects.create(
        name="mail",
        kind="email",
        settings={
            "host": "127.0.0.1",
            "port": 9,
            "username": "hrsync",
            "password_env": "HRSYNC_CHANNEL_1_SECRET",
            "from_address": "hrsync@example.org",
        },
        secret=encrypt(SMTP_PASSWORD),
    )
    Channel.objects.create(
        name="chat", kind="slack", settings={"url_env": "X"}, secret=encrypt(CHAT_URL)
    )
    admin = make_user("token-owner", "admin")
    token = ApiToken.objects.create(user=admin, name="ci", prefix="hrs_abcd", digest="0" * 64)
    AuditEvent.objects.create(actor="system", action="change.create", object_type="account")
    return World(source, person, ticket, connection, token)


READ_PAGES = [
    "/",
    "/sources/",
    "/sources/flex/",
    "/sources/manual/",
    "/tickets/",
    "/tickets/?q=anna&open=1",
    "/tickets/{t}/",
    "/people/",
    "/people/?q=1001",
    "/people/{p}/",
    "/triggers/",
    "/triggers/t1/",
    "/channels/",
    "/channels/mail/",
    "/channels/chat/",
    "/audit/",
    "/audit/?action=change.&since=2020-01-01&until=2999-12-31",
    "/audit/export.csv",
    "/tokens/",
]
OPERATOR, ADMIN = "operator", "admin"
MUTATING = [
    ("post", "/sources/flex/import/", OPERATOR),
    ("post", "/tickets/{t}/comment/", OPERATOR),
    ("post", "/tickets/{t}/close/", OPERATOR),
    ("post", "/tickets/{t}/assign/", OPERATOR),
    ("post", "/tickets/{t}/priority/", OPERATOR),
    ("post", "/people/{p}/provision/", OPERATOR),
    ("get", "/people/new/", ADMIN),
    ("post", "/people/new/", ADMIN),
    ("get", "/sources/new/", ADMIN),
    ("post", "/sources/new/", ADMIN),
    ("post", "/sources/check/", ADMIN),
    ("post", "/sources/companies/", ADMIN),
    ("post", "/sources/flex/", ADMIN),
    ("post", "/sources/flex/delete/", ADMIN),
    ("get", "/triggers/new/", ADMIN),
    ("post", "/triggers/new/", ADMIN),
    ("get", "/triggers/rows/condition/?index=3", ADMIN),
    ("post", "/triggers/t1/", ADMIN),
    ("post", "/triggers/t1/delete/", ADMIN),
    ("get", "/channels/new/", ADMIN),
    ("post", "/channels/new/", ADMIN),
    ("post", "/channels/mail/", ADMIN),
    ("post", "/channels/mail/test/", ADMIN),
    ("post", "/channels/mail/reset/", ADMIN),
    ("post", "/channels/mail/delete/", ADMIN),
]
EVERY_VIEW = [("get", p) for p in READ_PAGES] + [(m, p) for m, p, _ in MUTATING]


@pytest.mark.parametrize(("method", "path"), EVERY_VIEW)
def test_anonymous_users_are_sent_to_sign_in(world: World, method: str, path: str) -> None:
    url = world.path(path)
    response = getattr(Client(), method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=")
    assert unquote(response["Location"].split("next=", 1)[1]) == url


@pytest.mark.parametrize("path", READ_PAGES)
def test_a_viewer_reads_every_page(world: World, path: str) -> None:
    response = signed_in("viewer").get(world.path(path))
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "role"), MUTATING)
def test_a_viewer_may_change_nothing(world: World, method: str, path: str, role: str) -> None:
    response = getattr(signed_in("viewer"), method)(world.path(path))
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path", "role"), MUTATING)
def test_operators_do_operator_work_and_admins_everything(
    world: World, method: str, path: str, role: str
) -> None:
    operator = getattr(signed_in(OPERATOR), method)(world.path(path))
    assert (operator.status_code == 403) is (role == ADMIN)
    admin = getattr(signed_in(ADMIN), method)(world.path(path))
    assert admin.status_code in (200, 302, 400, 404)  # 404: another admin's token
    assert not admin.get("Location", "").startswith("/signin/")


def test_csrf_is_enforced_on_posts(world: World) -> None:
    client = signed_in(OPERATOR, enforce_csrf_checks=True)
    refused = client.post(world.path("/tickets/{t}/comment/"), {"text": "no token"})
    assert refused.status_code == 403
    page = client.get(world.path("/tickets/{t}/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    accepted = client.post(
        world.path("/tickets/{t}/comment/"), {"text": "with token", "csrfmiddlewaretoken": token[1]}
    )
    assert accepted.status_code == 302
    assert world.ticket.entries.filter(text="with token", author_name="operator-user").exists()


def test_stored_secrets_never_appear_in_a_page_the_audit_log_or_the_export(world: World) -> None:
    admin = signed_in(ADMIN)
    typed = {"url": "bad", "username": "api", "instance": "acme", "password": "Typed-Pa55word"}
    refused = admin.post("/sources/flex/", typed)
    assert refused.status_code == 400
    assert "Typed-Pa55word" not in text(refused)  # a refused form does not echo the password
    admin.post("/channels/mail/", {"kind": "email", "host": "h", "from_address": "a@b.se"})
    admin.post(
        "/channels/new/",
        {"name": "slack2", "kind": "slack", "chat_url": CHAT_URL, "max_attempts": "3"},
    )
    pages = [*READ_PAGES, "/sources/new/", "/channels/new/", "/triggers/new/", "/channels/slack2/"]
    for path in pages:
        body = text(admin.get(world.path(path)))
        assert not any(secret in body for secret in SECRETS), path
    events = " ".join(f"{e.before} {e.after}" for e in AuditEvent.objects.all())
    assert AuditEvent.objects.filter(action="channel.created").exists()
    assert not any(secret in events for secret in SECRETS)
    assert decrypt(Channel.objects.get(name="slack2").secret) == CHAT_URL


def test_a_new_token_is_shown_once_and_only_its_digest_is_kept(world: World) -> None:
    admin = signed_in("viewer")  # every role manages its own tokens
    created = admin.post("/tokens/", {"name": "deploy", "expires_in_days": "30"})
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    (token,) = re.findall(r"hrs_[A-Za-z0-9_-]{40}\b", created.content.decode())
    row = ApiToken.objects.get(name="deploy")
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:8]
    assert row.expires is not None
    listing = admin.get("/tokens/").content.decode()
    assert "deploy" in listing
    assert token not in listing
    assert token not in str(list(AuditEvent.objects.values("before", "after")))
    revoked = admin.post(f"/tokens/{row.pk}/revoke/")
    assert revoked.status_code == 302
    assert not ApiToken.objects.filter(pk=row.pk).exists()
    assert admin.post(f"/tokens/{world.token.pk}/revoke/").status_code == 404  # not yours


def test_the_csv_export_escapes_formulas(world: World) -> None:
    AuditEvent.objects.create(
        actor='=HYPERLINK("http://evil")',
        action="source.updated",
        object_type="source",
        object_key="+SUM(A1)",
        after={"note": "@cmd"},
    )
    response = signed_in("viewer").get("/audit/export.csv?action=source.updated")
    assert response["Content-Type"].startswith("text/csv")
    header, row = list(csv.reader(io.StringIO(text(response))))
    assert header[:4] == ["id", "created", "actor", "action"]
    assert row[2] == '\'=HYPERLINK("http://evil")'
    assert row[5] == "'+SUM(A1)"
    assert row[9] == '{"note": "@cmd"}'


def test_the_audit_log_pages_by_key_without_counting(world: World) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor="alice", action="trigger.updated", object_type="trigger", object_key=f"k{n}"
        )
        for n in range(120)
    )
    client, seen, url = signed_in("viewer"), [], "/audit/?actor=alice"
    while url:
        body = client.get(url).content.decode()
        seen += re.findall(r"trigger <span class=\"clip\">(k\d+)</span>", body)
        more = re.search(r'href="\?([^"]*before=\d+[^"]*)" rel="next"', body)
        url = f"/audit/?{more[1].replace('&amp;', '&')}" if more else ""
    assert len(seen) == len(set(seen)) == 120
    assert seen[0] == "k119"


def test_the_dashboard_charts_runs_and_lists_connections_needing_a_look(world: World) -> None:
    connection = world.connection
    for status in ("succeeded", "held", "succeeded", "failed"):
        Run.objects.create(connection=connection, status=status)
    Connection.objects.filter(pk=connection.pk).update(
        state=Connection.State.ACTIVE, next_run_at=timezone.now() - timedelta(hours=1)
    )
    body = signed_in("viewer").get("/").content.decode()
    assert body.count('class="bar succeeded"') == 1
    assert 'class="bar failed"' in body and 'class="bar held"' in body
    assert "4 runs in 14 days" in body
    assert '<td class="num">2</td><td class="num">1</td><td class="num">1</td>' in body
    assert body.count('href="/connections/ad/"') == 2  # failing and overdue
    assert "Joiner: Anna Berg (1001)" in body


def test_ticket_actions_leave_a_timeline_and_an_audit_trail(world: World) -> None:
    operator, ticket = signed_in(OPERATOR), world.ticket
    operator.post(f"/tickets/{ticket.pk}/assign/", {"group": "operator"})
    operator.post(f"/tickets/{ticket.pk}/priority/", {"priority": "high"})
    operator.post(f"/tickets/{ticket.pk}/close/", {"text": "Done by hand."})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_group.name) == (
        "closed",
        "high",
        "operator",
    )
    page = operator.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Joiner reported by Flex HRM." in page
    assert "Done by hand." in page and "Priority set to high." in page
    assert TicketEntry.objects.filter(ticket=ticket, author_name="operator-user").exists()
    actions = set(AuditEvent.objects.filter(person_id="p-1").values_list("action", flat=True))
    assert actions == {"ticket.assigned", "ticket.priority_set", "ticket.closed"}


def test_provision_now_without_an_active_connection_says_so(world: World) -> None:
    response = signed_in(OPERATOR).post(
        f"/people/{world.person.pk}/provision/", {"connection": "all"}, HTTP_HX_REQUEST="true"
    )
    assert "No active connection to provision on." in response.content.decode()


def test_trigger_validation_shows_every_message_and_the_seed_rule_saves(world: World) -> None:
    admin = signed_in(ADMIN)
    wrong = {
        "name": "seed",
        "event": "ticket.created",
        "match": "all",
        "order": "10",
        "cond-0-field": "sorce",
        "cond-0-op": "equals",
        "cond-0-value": "FlexHR",
        "act-0-do": "provision",
        "act-0-connection": "nowhere",
    }
    refused = admin.post("/triggers/new/", wrong)
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "condition 1: the event ticket.created has no field &#x27;sorce&#x27;" in body
    assert "action 1: unknown connection &#x27;nowhere&#x27;" in body
    seed = wrong | {
        "cond-0-field": "created",
        "cond-0-value": "true",
        "cond-1-field": "source",
        "cond-1-op": "equals",
        "cond-1-value": "FlexHR",
        "act-0-connection": "ad",
        "is_enabled": "on",
    }
    assert admin.post("/triggers/new/", seed).status_code == 302
    saved = Trigger.objects.get(name="seed")
    assert saved.conditions == [
        {"field": "created", "op": "equals", "value": "true"},
        {"field": "source", "op": "equals", "value": "FlexHR"},
    ]
    assert saved.actions == [{"do": "provision", "connection": "ad"}]
    assert AuditEvent.objects.filter(action="trigger.created", object_key="seed").exists()


@pytest.fixture
def flex() -> Iterator[FlexSimulator]:
    simulator = FlexSimulator(
        generate_dataset(count=6, seed=3), credentials=Credentials("acme", "api", FLEX_PASSWORD)
    )
    simulator.start()
    yield simulator
    simulator.stop()


def test_a_flex_source_is_created_tested_and_imported_against_the_simulator(
    flex: FlexSimulator,
) -> None:
    admin = signed_in(ADMIN)
    form = {
        "key": "hr",
        "url": flex.url,
        "username": "api",
        "password": FLEX_PASSWORD,
        "instance": "acme",
        "modified_since_days": "30",
        "schedule": "*/2 * * * *",
    }
    assert admin.post("/sources/new/", form).status_code == 302
    row = Source.objects.get(key="hr")
    assert decrypt(row.secret) == FLEX_PASSWORD and FLEX_PASSWORD not in str(row.settings)
    typed = form | {"password": "", "source_key": "hr"}  # empty: the stored password is used
    ok = admin.post("/sources/check/", typed, HTTP_HX_REQUEST="true").content.decode()
    assert "Connected" in ok
    refused = admin.post("/sources/check/", typed | {"password": "wrong"}).content.decode()
    assert "Test failed" in refused
    picker = admin.post("/sources/companies/", typed).content.decode()
    assert picker.count('name="companies"') == 3 and "Acme Konsult AB" in picker
    company = re.search(r'value="([^"]+)">\s*Acme Norden AB', picker)
    assert company is not None
    assert admin.post("/sources/hr/", typed | {"companies": [company[1]]}).status_code == 302
    row.refresh_from_db()
    assert row.settings["companies"] == [company[1]] and decrypt(row.secret) == FLEX_PASSWORD
    imported = signed_in(OPERATOR).post("/sources/hr/import/", follow=True).content.decode()
    assert "Import " in imported and "finished" in imported
    assert Ticket.objects.filter(source=row).exists()


def test_a_test_notification_uses_the_secret_stored_in_the_console(world: World) -> None:
    admin = signed_in(ADMIN)
    with run_webhook_receiver(secret=WEBHOOK_SECRET) as receiver:
        form = {
            "name": "hook",
            "kind": "webhook",
            "webhook_url": receiver.url,
            "webhook_secret": WEBHOOK_SECRET,
            "max_attempts": "1",
            "tls_verify": "on",
        }
        assert admin.post("/channels/new/", form).status_code == 302
        row = Channel.objects.get(name="hook")
        assert row.settings["secret_env"] == f"HRSYNC_CHANNEL_{row.pk}_SECRET"
        result = admin.post(
            "/channels/hook/test/", {"template": "run_held"}, HTTP_HX_REQUEST="true"
        ).content.decode()
    assert "Sent" in result, result
    (request,) = receiver.requests
    assert request.is_verified is True
    assert row.settings["secret_env"] not in os.environ  # published only while sending
    kept = admin.post("/channels/hook/", form | {"webhook_secret": "", "name": ""})
    assert kept.status_code == 302
    assert decrypt(Channel.objects.get(name="hook").secret) == WEBHOOK_SECRET


def test_a_suspended_channel_is_reset(world: World) -> None:
    Channel.objects.filter(name="mail").update(consecutive_failures=5, suspended_reason="broken")
    admin = signed_in(ADMIN)
    assert "suspended" in admin.get("/channels/").content.decode()
    admin.post("/channels/mail/reset/")
    row = Channel.objects.get(name="mail")
    assert (row.consecutive_failures, row.suspended_reason) == (0, "")
    assert AuditEvent.objects.filter(action="channel.reset", object_key="mail").exists()


def test_a_ticket_names_the_manager_and_the_office_as_people_read_them(world: World) -> None:
    """The ticket's diff and its opening line: the manager by name (not the person id), the
    office by its level's name, the unit's id not repeated beside it."""
    Person.objects.create(
        source=world.source, person_id="p-boss", employee_number="1040",
        display_name="Per Ek", fields={}, content_hash="y",
    )  # fmt: skip
    world.ticket.changed = {
        "manager_id": [None, "p-boss"],
        "org.Office": ["Stockholm", "Göteborg"],
        "orgid.Office": ["5d0c-1", "5d0c-2"],
    }
    world.ticket.save()
    more = {"manager_id": "p-boss", "org.Office": "Göteborg", "orgid.Office": "5d0c-2"}
    world.person.fields = {**world.person.fields, **more}
    world.person.save()

    viewer = signed_in("viewer")
    page = text(viewer.get(f"/tickets/{world.ticket.pk}/"))
    person_page = text(viewer.get(f"/people/{world.person.pk}/"))

    assert "Manager: (empty) → Per Ek (1040)" in page
    assert "Office: Stockholm → Göteborg" in page
    assert "p-boss" not in page and "5d0c" not in page and "orgid" not in page
    assert "Per Ek (1040)" in person_page and "p-boss" not in person_page
