"""Event triggers against the database: config load, and the dispatcher's order, batching, records.

The dispatcher is driven here through a recording `Actions`: what an action does to AD, a mailbox
or a ticket is proven by the end-to-end scenarios; here it is what the dispatcher does with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from hrsync.app.config_errors import ConfigError
from hrsync.app.config_file import load_config
from hrsync.app.models import (
    Channel,
    Connection,
    Person,
    Run,
    Source,
    Ticket,
    TicketEntry,
    Trigger,
    TriggerFiring,
)
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.triggers.actions import ActionFailedError, DefaultActions
from hrsync.app.triggers.config import load_triggers
from hrsync.app.triggers.dispatch import MAX_DEPTH, Dispatcher

pytestmark = pytest.mark.django_db

SEED_TRIGGER: dict[str, Any] = {
    "event": "ticket.created",
    "match": "all",
    "conditions": [
        {"field": "created", "op": "equals", "value": True},
        {"field": "source", "op": "equals", "value": "FlexHR"},
    ],
    "actions": [{"do": "provision", "connection": "ad"}],
    "order": 10,
}
CREATED = {"created": True, "source": "FlexHR", "kind": "joiner", "employee_number": "1001"}


class RecordingActions:
    """Records every call; `failing` names the verbs that raise."""

    def __init__(self, *failing: str) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.failing = set(failing)

    def _record(self, verb: str, *args: Any) -> str:
        self.calls.append((verb, *args))
        if verb in self.failing:
            raise RuntimeError(f"{verb} is down")
        return f"{verb} done"

    def provision(self, connection: str, person_pks: set[int]) -> str:
        self._record("provision", connection, set(person_pks))
        return f"provisioned {len(person_pks)} on {connection}"

    def run(self, connection: str) -> str:
        return self._record("run", connection)

    def notify(
        self, channel: str, template: str, context: Mapping[str, Any], to: list[str] | None
    ) -> str:
        return self._record("notify", channel, template, dict(context), to)

    def comment(self, ticket: Ticket, text: str) -> str:
        return self._record("comment", ticket.pk, text)

    def assign(self, ticket: Ticket, user: str | None, group: str | None) -> str:
        return self._record("assign", ticket.pk, user, group)

    def set_priority(self, ticket: Ticket, priority: str) -> str:
        return self._record("set_priority", ticket.pk, priority)


@pytest.fixture
def source() -> Source:
    flex = Source.objects.create(key="flex", kind="flexhrm")
    for key in ("ad", "scim"):
        Connection.objects.create(key=key, source=flex, kind="active_directory")
    Channel.objects.create(name="it", kind=Channel.Kind.EMAIL)
    return flex


def person(source: Source, number: int) -> Person:
    return Person.objects.create(
        source=source,
        person_id=f"p{number}",
        employee_number=str(1000 + number),
        display_name=f"Person {number}",
        content_hash="x",
    )


def ticket(source: Source, number: int) -> Ticket:
    someone = person(source, number)
    return Ticket.objects.create(source=source, person=someone, kind="joiner", title="Joiner")


def triggers(**entries: dict[str, Any]) -> None:
    load_triggers({name.replace("_", "-"): entry for name, entry in entries.items()})


# --- config load ----------------------------------------------------------------------------


def test_the_seeds_trigger_loads_and_loading_again_changes_nothing(source: Source) -> None:
    assert load_triggers({"provision-new-hires": SEED_TRIGGER}) == [
        ("triggers.provision-new-hires", "created")
    ]
    row = Trigger.objects.get(name="provision-new-hires")
    assert (row.event, row.order, row.is_enabled) == ("ticket.created", 10, True)
    assert row.conditions[1] == {"field": "source", "op": "equals", "value": "FlexHR"}
    assert row.actions == [{"do": "provision", "connection": "ad"}]
    assert load_triggers({"provision-new-hires": SEED_TRIGGER}) == [
        ("triggers.provision-new-hires", "unchanged")
    ]
    edited = SEED_TRIGGER | {"enabled": False}
    assert load_triggers({"provision-new-hires": edited}) == [
        ("triggers.provision-new-hires", "updated")
    ]
    assert not Trigger.objects.get(name="provision-new-hires").is_enabled


def test_config_load_reads_triggers_from_the_file(source: Source, tmp_path: Path) -> None:
    path = tmp_path / "hrsync.toml"
    path.write_text(
        """
[triggers.provision-new-hires]
event = "ticket.created"
match = "all"
conditions = [ { field = "created", op = "equals", value = true },
               { field = "source", op = "equals", value = "FlexHR" } ]
actions = [ { do = "provision", connection = "ad" } ]
order = 10
"""
    )
    assert load_config(path).created == ["triggers.provision-new-hires"]
    assert load_config(path).unchanged == ["triggers.provision-new-hires"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"conditions": [{"field": "sorce", "op": "equals", "value": "FlexHR"}]},
            "triggers.seed: condition 1: the event ticket.created has no field 'sorce' "
            "(did you mean 'source'?)",
        ),
        (
            {"conditions": [{"field": "source", "op": "equal", "value": "FlexHR"}]},
            "triggers.seed: condition 1: unknown operator 'equal' (did you mean 'equals'?)",
        ),
        (
            {"actions": [{"do": "provision", "connection": "ad2"}]},
            "triggers.seed: action 1: unknown connection 'ad2' (did you mean 'ad'?)",
        ),
        (
            {"actions": [{"do": "notify", "channel": "ops", "template": "run_held"}]},
            "triggers.seed: action 1: unknown channel 'ops' (known: it)",
        ),
        (
            {"conditions": [{"field": "source", "value": "FlexHR"}]},
            "triggers.seed: condition 1: op: Field required",
        ),
        (
            {"conditions": [{"field": "source", "op": "equals", "value": {"a": 1}}]},
            "condition 1: value: a condition's value is text, a number, true/false or a list",
        ),
        ({"actions": [{"connection": "ad"}]}, "triggers.seed: action 1: do: Field required"),
        ({"order": -1}, "triggers.seed: order: Input should be greater than or equal to 0"),
    ],
)
def test_a_bad_trigger_is_refused_with_a_clear_message(
    source: Source, edit: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_triggers({"seed": SEED_TRIGGER | edit})
    assert message in str(refused.value)
    assert not Trigger.objects.exists()


def test_every_bad_trigger_is_named_and_none_is_saved(source: Source) -> None:
    bad_action = {"actions": [{"do": "provision", "connection": "ad2"}]}
    with pytest.raises(ConfigError) as refused:
        load_triggers(
            {
                "good": SEED_TRIGGER,
                "first": SEED_TRIGGER | bad_action,
                "second": SEED_TRIGGER | {"event": "ticket.opened"},
                "bad name!": SEED_TRIGGER,
            }
        )
    lines = str(refused.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "triggers.first",
        "triggers.second",
        "triggers.bad name!",
    ]
    assert not Trigger.objects.exists()


# --- dispatcher -----------------------------------------------------------------------------


def test_triggers_fire_in_order_and_every_firing_is_recorded(source: Source) -> None:
    triggers(
        late={"event": "ticket.created", "order": 20, "actions": [{"do": "comment", "text": "2"}]},
        early={
            "event": "ticket.created",
            "order": 10,
            "actions": [
                {"do": "comment", "text": "1 {person_name}"},
                {"do": "set_priority", "priority": "high"},
            ],
        },
        other_event={"event": "ticket.closed", "actions": [{"do": "comment", "text": "closed"}]},
        disabled={
            "event": "ticket.created",
            "enabled": False,
            "actions": [{"do": "run", "connection": "ad"}],
        },
    )
    actions = RecordingActions()
    dispatcher = Dispatcher.load(actions)
    opened = ticket(source, 1)
    subject = CREATED | {"person_name": "Anna Berg", "ticket_id": opened.pk}
    dispatcher.fire("ticket.created", subject, ticket=opened)
    dispatcher.flush()
    assert actions.calls == [
        ("comment", opened.pk, "1 Anna Berg"),
        ("set_priority", opened.pk, "high"),
        ("comment", opened.pk, "2"),
    ]
    firings = list(TriggerFiring.objects.order_by("pk"))
    assert [f.trigger.name for f in firings] == ["early", "late"]
    assert firings[0].event == "ticket.created"
    assert firings[0].subject == subject
    assert firings[0].results == [
        {"do": "comment", "ok": True, "detail": "comment done"},
        {"do": "set_priority", "ok": True, "detail": "set_priority done"},
    ]
    assert all(f.is_ok for f in firings)


def test_a_failing_action_is_recorded_and_the_next_still_runs(source: Source) -> None:
    triggers(
        tell_it={
            "event": "ticket.created",
            "actions": [
                {
                    "do": "notify",
                    "channel": "it",
                    "template": "provisioning_failed",
                    "to": ["it@acme.example"],
                },
                {"do": "comment", "text": "IT was told"},
            ],
        }
    )
    actions = RecordingActions("notify")
    dispatcher = Dispatcher.load(actions)
    opened = ticket(source, 1)
    dispatcher.fire("ticket.created", CREATED, ticket=opened, context={"ticket": {"id": opened.pk}})
    dispatcher.flush()
    notify, comment = actions.calls
    assert notify[1:3] == ("it", "provisioning_failed")
    assert notify[3]["ticket"] == {"id": opened.pk} and notify[3]["source"] == "FlexHR"
    assert notify[4] == ["it@acme.example"]
    assert comment == ("comment", opened.pk, "IT was told")
    firing = TriggerFiring.objects.get()
    assert not firing.is_ok
    assert firing.results == [
        {"do": "notify", "ok": False, "detail": "notify is down"},
        {"do": "comment", "ok": True, "detail": "comment done"},
    ]


def test_provisioning_is_batched_into_one_run_per_connection(source: Source) -> None:
    triggers(
        provision_new_hires=SEED_TRIGGER,
        also_scim=SEED_TRIGGER
        | {
            "order": 20,
            "actions": [
                {"do": "provision", "connection": "scim"},
                {"do": "run", "connection": "ad"},
            ],
        },
    )
    actions = RecordingActions()
    dispatcher = Dispatcher.load(actions)
    people = [person(source, n) for n in range(5)]
    for someone in people:
        dispatcher.fire("ticket.created", CREATED, person=someone)
    dispatcher.fire("ticket.updated", CREATED | {"created": False}, person=people[0])
    assert actions.calls == []  # queued, not started
    dispatcher.flush()
    pks = {someone.pk for someone in people}
    assert actions.calls == [("provision", "ad", pks), ("provision", "scim", pks), ("run", "ad")]
    firings = TriggerFiring.objects.filter(trigger__name="provision-new-hires")
    assert firings.count() == 5
    assert {f.results[0]["detail"] for f in firings} == {"provisioned 5 on ad"}
    scim = TriggerFiring.objects.filter(trigger__name="also-scim").first()
    assert scim is not None and scim.results[1] == {"do": "run", "ok": True, "detail": "run done"}


def test_a_failed_batch_is_recorded_on_every_firing_that_asked_for_it(source: Source) -> None:
    triggers(seed=SEED_TRIGGER)
    dispatcher = Dispatcher.load(RecordingActions("provision"))
    for number in range(3):
        dispatcher.fire("ticket.created", CREATED, person=person(source, number))
    dispatcher.flush()
    firings = TriggerFiring.objects.all()
    assert len(firings) == 3
    assert all(not f.is_ok and f.results[0]["detail"] == "provision is down" for f in firings)


def test_fire_costs_no_query_and_flush_writes_in_bulk(
    source: Source, django_assert_num_queries: Any, django_assert_max_num_queries: Any
) -> None:
    triggers(seed=SEED_TRIGGER)
    dispatcher = Dispatcher.load(RecordingActions())
    someone = person(source, 1)
    with django_assert_num_queries(0):
        for _ in range(1000):
            dispatcher.fire("ticket.created", CREATED | {"source": "AFAS"}, person=someone)
            dispatcher.fire("run.failed", {"connection": "ad"})
        for _ in range(1000):
            dispatcher.fire("ticket.created", CREATED, person=someone)
    # A few bulk INSERTs for a thousand firings (SQLite caps the parameters of one statement).
    with django_assert_max_num_queries(10):
        dispatcher.flush()
    assert TriggerFiring.objects.count() == 1000


def test_a_ticket_action_without_a_ticket_is_skipped(source: Source) -> None:
    triggers(note={"event": "change.failed", "actions": [{"do": "comment", "text": "{error}"}]})
    actions = RecordingActions()
    dispatcher = Dispatcher.load(actions)
    dispatcher.fire("change.failed", {"connection": "ad", "error": "refused"})
    dispatcher.flush()
    assert actions.calls == []
    result = TriggerFiring.objects.get().results[0]
    assert result == {"do": "comment", "ok": True, "detail": "skipped: the event has no ticket"}


class LoopingActions(RecordingActions):
    """Each provisioning run fires the same event again, as a badly written rule set could."""

    def provision(self, connection: str, person_pks: set[int]) -> str:
        inner = Dispatcher.load(self)
        someone = Person.objects.get(pk=next(iter(person_pks)))
        inner.fire("ticket.created", CREATED, person=someone)
        inner.flush()
        return super().provision(connection, person_pks)


def test_runs_started_by_triggers_cannot_loop_forever(source: Source) -> None:
    triggers(seed=SEED_TRIGGER)
    actions = LoopingActions()
    dispatcher = Dispatcher.load(actions)
    dispatcher.fire("ticket.created", CREATED, person=person(source, 1))
    dispatcher.flush()
    assert len(actions.calls) == MAX_DEPTH
    details = [f.results[0]["detail"] for f in TriggerFiring.objects.order_by("pk")]
    assert sum("loop guard" in detail for detail in details) == 1


def test_the_default_actions_edit_the_ticket(source: Source) -> None:
    Connection.objects.create(key="gone", source=source, kind="active_directory")
    triggers(
        triage={
            "event": "ticket.created",
            "actions": [
                {"do": "comment", "text": "New {kind} from {source}"},
                {"do": "set_priority", "priority": "urgent"},
                {"do": "assign", "user": "nobody"},
                {"do": "provision", "connection": "gone"},
            ],
        }
    )
    Connection.objects.filter(key="gone").delete()
    dispatcher = Dispatcher.load(DefaultActions(run_connection))
    opened = ticket(source, 1)
    dispatcher.fire("ticket.created", CREATED, ticket=opened)
    dispatcher.flush()
    opened.refresh_from_db()
    assert opened.priority == "urgent"
    assert TicketEntry.objects.filter(ticket=opened, text="New joiner from FlexHR").exists()
    results = TriggerFiring.objects.get().results
    assert [r["ok"] for r in results] == [True, True, False, False]
    assert results[2]["detail"] == "unknown user 'nobody'"
    assert "unknown connection 'gone'" in results[3]["detail"]


def test_provisioning_people_who_are_gone_never_widens_to_a_full_run(source: Source) -> None:
    with pytest.raises(ActionFailedError, match="no longer in the person store"):
        DefaultActions(run_connection).provision("ad", {987654})
    assert not Run.objects.exists()
