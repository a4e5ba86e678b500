"""An import of changed people writes their new values, and its queries do not grow with the
people whose open tickets it comments (no query per ticket for its assignee).

Real parts: the Flex HRM simulator over HTTP and the database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hrsync.app.imports.source_import import import_source
from hrsync.app.models import Person, Source, Ticket, TriggerFiring
from hrsync.app.triggers.config import load_triggers
from hrsync.domain.person import hash_fields
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset

pytestmark = pytest.mark.django_db

PEOPLE = 20


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlexSimulator]:
    server = FlexSimulator(
        generate_dataset(count=PEOPLE, seed=29), credentials=Credentials("acme", "api", "pw")
    )
    server.start()
    monkeypatch.setenv("FLEX_PW", "pw")
    settings = {"url": server.url, "instance": "acme", "username": "api", "password_env": "FLEX_PW"}
    Source.objects.create(key="flex", kind="flexhrm", settings=settings)
    yield server
    server.stop()


def test_changed_people_are_written_and_their_assigned_tickets_cost_no_query_each(
    sim: FlexSimulator,
) -> None:
    condition = {"field": "assignee", "op": "equals", "value": "ida"}
    comment = {"do": "comment", "text": "changed again"}
    load_triggers(
        {"note": {"event": "ticket.updated", "conditions": [condition], "actions": [comment]}}
    )
    assert import_source("flex").new == PEOPLE
    Ticket.objects.update(assignee_user=User.objects.create_user("ida"))
    phones = {}
    for number, person in enumerate(Person.objects.all()):
        phones[person.person_id] = f"+46 8 555 {number:02}"
        sim.patch_employee(person.person_id, {"phone1": phones[person.person_id]})

    with CaptureQueriesContext(connection) as queries:
        again = import_source("flex")

    assert again.changed == PEOPLE
    stored = list(Person.objects.all())
    assert {p.person_id: p.fields["phone"] for p in stored} == phones
    assert all(p.content_hash == hash_fields(p.fields) for p in stored)
    per_assignee = [q["sql"] for q in queries.captured_queries if 'FROM "auth_user"' in q["sql"]]
    assert per_assignee == []
    assert TriggerFiring.objects.filter(event="ticket.updated").count() == PEOPLE
