"""A small dataset and signed-in clients for the REST API tests (and the schemathesis run).

Every external part it names is unreachable on purpose (closed loopback ports, no retries), so
operations that reach out fail fast and record the failure; the tests that need a part running
start it themselves (the Flex HRM simulator, the webhook receiver).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group, User
from django.test import Client

from hrsync.app.models import (
    ApiToken,
    AuditEvent,
    Channel,
    Connection,
    Import,
    Integration,
    Link,
    Person,
    PersonnelChange,
    Run,
    RunChange,
    Source,
    Ticket,
    TicketEntry,
    Trigger,
)
from hrsync.app.security.secrets import encrypt
from hrsync.app.security.tokens import SHOWN_PREFIX, new_token, token_digest

CLOSED_PORT = 9  # discard: nothing listens there on a test machine
SOURCE_PASSWORD = "flex-Pa55word-for-tests"
BIND_PASSWORD = "bind-Pa55word-for-tests"
ROLES = ("viewer", "operator", "admin")

SOURCE_SETTINGS: dict[str, Any] = {
    "url": f"http://127.0.0.1:{CLOSED_PORT}/api/",
    "instance": "acme",
    "username": "api",
    "companies": ["1"],
    "modified_since_days": 30,
    "max_retries": 0,
    "timeout_seconds": 2,
}
TARGET_SETTINGS: dict[str, Any] = {
    "url": f"ldaps://127.0.0.1:{CLOSED_PORT}",
    "bind_dn": "CN=hrsync,CN=Users,DC=example,DC=org",
    "base_dn": "DC=example,DC=org",
    "users_ou": "OU=Staff",
    "upn_suffix": "example.org",
    "timeout_seconds": 2,
}


@dataclass
class Dataset:
    source: Source
    connection: Connection
    person: Person
    ticket: Ticket
    held_run: Run
    trigger: Trigger
    channel: Channel
    integration: Integration

    def ids(self) -> dict[str, Any]:
        """The keys and ids paths are written with."""
        return {
            "source": self.source.key,
            "connection": self.connection.key,
            "person": self.person.pk,
            "ticket": self.ticket.pk,
            "run": self.held_run.pk,
            "trigger": self.trigger.name,
            "channel": self.channel.name,
            "integration": self.integration.key,
            "missing": 999_999,
        }


def make_users() -> dict[str, User]:
    """One user per role, each in the group its role is named by."""
    users = {}
    for role in ROLES:
        user = User.objects.create_user(role)  # no password: API tokens and force_login only
        user.groups.add(Group.objects.get(name=role))
        users[role] = user
    return users


def token_for(user: User, name: str = "tests") -> str:
    token = new_token()
    ApiToken.objects.create(
        user=user, name=name, prefix=token[:SHOWN_PREFIX], digest=token_digest(token)
    )
    return token


def client_for(user: User | None) -> Client:
    """A client sending the user's API token (anonymous when None)."""
    if user is None:
        return Client()
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")


def make_dataset() -> Dataset:
    source = Source.objects.create(
        key="hr", kind="flexhrm", settings=SOURCE_SETTINGS, secret=encrypt(SOURCE_PASSWORD)
    )
    connection = Connection.objects.create(
        key="ad",
        name="Active Directory",
        source=source,
        kind="active_directory",
        settings=TARGET_SETTINGS,
        secret=encrypt(BIND_PASSWORD),
        state=Connection.State.ACTIVE,
        step=7,
        schedule="0 6 * * *",
    )
    person = _person(source)
    ticket = _ticket(source, person)
    return Dataset(
        source=source,
        connection=connection,
        person=person,
        ticket=ticket,
        held_run=_held_run(connection, person),
        integration=Integration.objects.create(
            key="oneflow",
            kind="oneflow",
            source=source,
            settings={
                "url": "http://127.0.0.1:9/v1",
                "user_email": "hr@example.org",
                "token_env": "HRSYNC_TEST_UNSET_TOKEN",
                "sign_key_env": "HRSYNC_TEST_UNSET_KEY",
                "document_category": "Oneflow Documents",
            },
        ),
        trigger=Trigger.objects.create(
            name="joiners",
            event="ticket.created",
            conditions=[{"field": "created", "op": "equals", "value": True}],
            actions=[{"do": "set_priority", "priority": "high"}],
        ),
        channel=Channel.objects.create(
            name="hooks",
            kind="webhook",
            settings={"url": f"http://127.0.0.1:{CLOSED_PORT}/hook", "secret_env": "HOOK_SECRET"},
        ),
    )


def _person(source: Source) -> Person:
    person = Person.objects.create(
        source=source,
        person_id="p-1001",
        employee_number="1001",
        display_name="Anna Berg",
        fields={
            "given_name": "Anna",
            "family_name": "Berg",
            "email": "anna.berg@example.org",
            "title": "Controller",
            "company_name": "Acme Sverige AB",
        },
        content_hash="0" * 64,
    )
    return person


def _ticket(source: Source, person: Person) -> Ticket:
    record = Import.objects.create(source=source, status="succeeded")
    change = PersonnelChange.objects.create(
        source_import=record, person=person, kind="joiner", changed={"title": [None, "Controller"]}
    )
    ticket = Ticket.objects.create(
        source=source,
        person=person,
        change=change,
        kind="joiner",
        title="Joiner: Anna Berg (1001)",
        changed=change.changed,
    )
    TicketEntry.objects.create(ticket=ticket, text="Imported from Flex HRM.")
    return ticket


def _held_run(connection: Connection, person: Person) -> Run:
    Link.objects.create(
        connection=connection, person=person, account_id="guid-1", ref="CN=Anna Berg,OU=Staff"
    )
    run = Run.objects.create(
        connection=connection,
        status=Run.Status.HELD,
        plan_counts={"disable": 1},
        fingerprint="f" * 64,
        error="held by the safety gate: 1 disable",
    )
    RunChange.objects.create(
        run=run,
        person=person,
        kind="disable",
        ref="CN=Anna Berg,OU=Staff,DC=example,DC=org",
        payload={
            "kind": "disable",
            "person_id": person.person_id,
            "account_id": "guid-1",
            "ref": "CN=Anna Berg,OU=Staff,DC=example,DC=org",
            "reason": "left on 2026-01-31",
        },
    )
    AuditEvent.objects.create(
        actor="schedule", action="change.disable", object_type="account", connection_key="ad"
    )
    return run
