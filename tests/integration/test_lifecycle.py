"""The connection lifecycle service: steps and their reset, states, simulation, activation, held
runs approved (exactly the held plan, skipping changes whose account moved on) or rejected.

Real parts: the Flex HRM simulator over HTTP (imported into the person store) and a Samba AD DC
over LDAPS; the store is the test database.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hrsync.app.connections import lifecycle
from hrsync.app.connections.lifecycle import InvalidValuesError, LifecycleError
from hrsync.app.imports.source_import import import_source
from hrsync.app.models import AuditEvent, Connection, Person, Run, Source
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.runs.plan_diff import safe_cell
from hrsync.app.security import secrets
from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

pytestmark = pytest.mark.django_db
PEOPLE = 12
FAKE_TARGET = {
    "url": "ldaps://dc.example.test",
    "bind_dn": "CN=hrsync,CN=Users,DC=example,DC=test",
    "password": "bind-secret",
    "base_dn": "DC=example,DC=test",
    "users_ou": "OU=Staff",
    "upn_suffix": "example.test",
}


def actions(key: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(connection_key=key)
        .order_by("pk")
        .values_list("action", flat=True)
    )


@pytest.fixture
def flex_source() -> Source:
    return Source.objects.create(key="flex", kind="flexhrm")


def walk_to_simulation(key: str, target: dict[str, Any]) -> Connection:
    connection = lifecycle.create_connection(key, {"source": "flex", "name": key.upper()}, "ada")
    lifecycle.save_step(connection, 2, target, "ada")
    lifecycle.save_step(connection, 3, {}, "ada")
    return lifecycle.save_step(connection, 4, {"safety": {"delete": {"count": 2}}}, "ada")


# --- steps and states, no target needed -------------------------------------------------------


def test_the_steps_lead_to_simulation_and_the_password_is_kept_encrypted(
    flex_source: Source,
) -> None:
    connection = lifecycle.create_connection("ad", {"source": "flex", "name": "AD"}, "ada")
    assert (connection.state, connection.step) == ("draft", 2)
    lifecycle.save_step(connection, 2, FAKE_TARGET, "ada")
    assert (connection.state, connection.step) == ("draft", 3)
    assert "password" not in connection.settings
    assert secrets.decrypt(connection.secret) == "bind-secret"
    lifecycle.save_step(connection, 3, {}, "ada")
    lifecycle.save_step(
        connection, 4, {"safety": {"delete": {"count": 2}}, "companies": [" Acme "]}, "ada"
    )
    connection.refresh_from_db()
    assert (connection.state, connection.step) == ("simulation", 5)
    assert connection.settings["safety"]["delete"] == {"percent": 5.0, "count": 2}
    assert connection.settings["safety"]["wipe"] == {"percent": 5.0, "count": 10}
    assert connection.settings["scope"] == {"companies": ["Acme"]}
    assert "bind-secret" not in json.dumps(list(AuditEvent.objects.values("before", "after")))


def test_editing_a_step_resets_progress_and_state_and_says_so_in_the_audit_log(
    flex_source: Source,
) -> None:
    connection = walk_to_simulation("ad", FAKE_TARGET)
    connection.step, connection.state = 7, Connection.State.ACTIVE
    connection.save()
    lifecycle.save_step(connection, 2, FAKE_TARGET | {"password": "", "users_ou": "OU=New"}, "bo")
    connection.refresh_from_db()
    assert (connection.state, connection.step) == ("draft", 3)
    assert secrets.decrypt(connection.secret) == "bind-secret"  # empty: the stored one stays
    event = AuditEvent.objects.filter(action="connection.step_saved").first()
    assert event is not None and event.actor == "bo"
    assert (event.before["state"], event.before["step"]) == ("active", 7)
    assert (event.after["state"], event.after["step"], event.after["saved_step"]) == ("draft", 3, 2)
    assert event.after["settings"]["users_ou"] == "OU=New"


def test_a_locked_step_a_bad_value_and_activation_before_simulation_are_refused(
    flex_source: Source,
) -> None:
    connection = lifecycle.create_connection("ad", {"source": "flex"}, "ada")
    with pytest.raises(LifecycleError, match="step 2 comes first"):
        lifecycle.save_step(connection, 3, {}, "ada")
    with pytest.raises(InvalidValuesError) as bad:
        lifecycle.save_step(connection, 2, FAKE_TARGET | {"url": "http://dc"}, "ada")
    assert "url" in bad.value.errors
    with pytest.raises(InvalidValuesError) as missing:
        lifecycle.save_step(connection, 2, FAKE_TARGET | {"password": ""}, "ada")
    assert set(missing.value.errors) == {"password"}
    with pytest.raises(InvalidValuesError, match="taken"):
        lifecycle.create_connection("ad", {"source": "flex"}, "ada")
    with pytest.raises(InvalidValuesError, match="letters, digits"):
        lifecycle.create_connection("../ad", {"source": "flex"}, "ada")
    with pytest.raises(InvalidValuesError, match="no source"):
        lifecycle.create_connection("ad2", {"source": "nope"}, "ada")
    walk_to_simulation("ad3", FAKE_TARGET)
    ad3 = Connection.objects.get(key="ad3")
    with pytest.raises(LifecycleError, match="run a simulation"):
        lifecycle.activate(ad3, "*/5 * * * *", "ada")
    with pytest.raises(LifecycleError, match="not a form"):
        lifecycle.save_step(ad3, 5, {}, "ada")
    with pytest.raises(LifecycleError, match="it is simulation, not active"):
        lifecycle.deactivate(ad3, "ada")
    assert ad3.state == "simulation"


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted() -> None:
    assert [safe_cell(v) for v in ("=1+2", "+46 8", "-x", "@sum", "\tx", "\rx", "ok", None)] == [
        "'=1+2",
        "'+46 8",
        "'-x",
        "'@sum",
        "'\tx",
        "'\rx",
        "ok",
        "",
    ]


# --- against the simulator and Samba ----------------------------------------------------------


@pytest.fixture(scope="module")
def flex() -> Iterator[FlexSimulator]:
    sim = FlexSimulator(
        generate_dataset(count=PEOPLE, seed=23), credentials=Credentials("acme", "api", "pw")
    )
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def directory(samba_dc: SambaDC, admin_directory: DirectoryClient) -> Iterator[dict[str, Any]]:
    """Target settings for a base OU of this test's own, removed afterwards."""
    base = f"OU=lc{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    yield {
        "url": samba_dc.url,
        "ca_file": str(samba_dc.ca_file),
        "bind_dn": samba_dc.bind_dn,
        "password": samba_dc.admin_password,
        "base_dn": base,
        "users_ou": "OU=People",
        "upn_suffix": samba_dc.realm.lower(),
    }
    admin_directory.delete(base, with_subtree=True)


@pytest.fixture
def imported(flex: FlexSimulator) -> Source:
    source = Source.objects.create(
        key="flex",
        kind="flexhrm",
        settings={"url": flex.url, "instance": "acme", "username": "api"},
        secret=secrets.encrypt("pw"),
    )
    import_source("flex")
    assert Person.objects.count() == PEOPLE
    return source


def test_check_target_binds_and_reports_a_wrong_password(
    imported: Source, directory: dict[str, Any]
) -> None:
    connection = walk_to_simulation("ad", directory)
    assert lifecycle.check_target(connection, directory | {"password": ""}).is_ok
    wrong = lifecycle.check_target(connection, directory | {"password": "wrong"})
    assert not wrong.is_ok and wrong.message


def test_simulate_shows_the_diff_then_activate_deactivate_reactivate_and_delete(
    imported: Source, directory: dict[str, Any]
) -> None:
    connection = walk_to_simulation("ad", directory)
    run = lifecycle.simulate(connection, "olle")
    assert (run.status, run.started_by, run.is_simulation) == ("simulated", "olle", True)
    assert connection.step == 6
    diff = lifecycle.plan_diff(run)
    assert len(diff.people) == PEOPLE == diff.counts["create"]
    assert not diff.is_held
    first = diff.people[0]
    assert first.changes[0].kind == "create"
    assert ("employeeID", None, first.employee_number) in [
        (a.name, a.old, a.new) for a in first.changes[0].attributes
    ]
    assert [p.name for p in lifecycle.plan_diff(run, search=first.name.upper()).people] == [
        first.name
    ]
    assert lifecycle.plan_diff(run, kind="delete").people == []

    content_type, body = lifecycle.export_plan(run, "csv")
    assert content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert {row["employee_number"] for row in rows} == {p.employee_number for p in diff.people}
    assert json.loads(lifecycle.export_plan(run, "json")[1])["counts"]["create"] == PEOPLE

    with pytest.raises(InvalidValuesError) as bad:
        lifecycle.activate(connection, "every fortnight", "ada")
    assert "schedule" in bad.value.errors
    lifecycle.activate(connection, "every 15m  from 2026-01-01T06:00", "ada")
    connection.refresh_from_db()
    assert (connection.state, connection.step) == ("active", 7)
    assert connection.schedule == "every 15m from 2026-01-01T06:00"
    assert connection.next_run_at is not None
    assert connection.next_run_at.minute % 15 == 0

    lifecycle.deactivate(connection, "ada")
    assert (connection.state, connection.next_run_at) == ("deactivated", None)
    with pytest.raises(LifecycleError, match="cannot simulate"):
        lifecycle.simulate(connection, "olle")
    lifecycle.activate(connection, None, "ada")  # the stored schedule
    assert connection.state == "active"

    with pytest.raises(LifecycleError, match="type the connection's key"):
        lifecycle.delete_connection(connection, "AD", "ada")
    lifecycle.delete_connection(connection, "ad", "ada")
    assert not Connection.objects.filter(key="ad").exists()
    assert not Run.objects.filter(pk=run.pk).exists()
    assert actions("ad") == [
        "connection.created",
        "connection.step_saved",
        "connection.step_saved",
        "connection.step_saved",
        "connection.simulated",
        "connection.activated",
        "connection.deactivated",
        "connection.activated",
        "connection.deleted",
    ]


def held_run(connection: Connection, directory: dict[str, Any], users_ou: str) -> Run:
    """Move everyone to another OU with a move limit of 1: the gate holds the run."""
    lifecycle.save_step(connection, 2, directory | {"password": "", "users_ou": users_ou}, "ada")
    lifecycle.save_step(connection, 3, {}, "ada")
    lifecycle.save_step(connection, 4, {"safety": {"move": {"count": 1}}}, "ada")
    lifecycle.simulate(connection, "olle")
    lifecycle.activate(connection, "on-change", "ada")
    summary = run_connection(connection.key, started_by="schedule")
    run = Run.objects.get(pk=summary.run_id)
    assert run.status == "held"
    return run


def test_a_held_run_is_applied_as_held_skipping_accounts_that_moved_on(
    imported: Source, directory: dict[str, Any], admin_directory: DirectoryClient
) -> None:
    connection = walk_to_simulation("ad", directory)
    lifecycle.simulate(connection, "olle")
    lifecycle.activate(connection, "on-change", "ada")
    assert run_connection("ad").applied >= PEOPLE

    held = held_run(connection, directory, "OU=Moved")
    diff = lifecycle.plan_diff(held)
    assert diff.is_held and "move" in diff.reasons[0]
    applying = lifecycle.approve_run(held, "olle")
    held.refresh_from_db()
    assert (applying.status, applying.started_by) == ("succeeded", "olle")
    assert held.status == "succeeded" and held.error.startswith("approved by olle")
    moved_ou = f"OU=Moved,{directory['base_dn']}"
    moved = list(admin_directory.search(moved_ou, "(objectClass=user)", ["cn"]))
    assert len(moved) == PEOPLE

    again = held_run(connection, directory, "OU=Again")
    # Meanwhile an admin moves one account aside and edits another's title: a title is not what
    # a move depends on, the DN is.
    aside = f"OU=Aside,{directory['base_dn']}"
    admin_directory.add(aside, {"objectClass": [b"top", b"organizationalUnit"]})
    first_rdn = moved[0][0].split(",", 1)[0]
    admin_directory.rename(moved[0][0], first_rdn, aside)
    admin_directory.modify(moved[1][0], [(2, "title", [b"Changed behind hrsync's back"])])
    applying = lifecycle.approve_run(again, "olle")
    skipped = list(applying.changes.filter(status="skipped"))
    moves = [c for c in skipped if c.kind == "move"]
    assert [c.ref for c in moves] == [moved[0][0]]
    assert moves[0].error == (
        f"the account changed since the plan was held: it is now {first_rdn},{aside} "
        f"(the plan saw {moved[0][0]})"
    )
    # Reports of the account moved aside keep their manager, which AD already points there.
    assert {c.kind for c in skipped} <= {"move", "set_manager"}
    assert (applying.status, applying.failed) == ("succeeded", 0)
    again.refresh_from_db()
    assert again.error.startswith("approved by olle; applied by run")
    assert f"({len(skipped)} skipped: their accounts changed" in again.error
    found = admin_directory.search(f"OU=Again,{directory['base_dn']}", "(objectClass=user)", ["cn"])
    assert len(list(found)) == PEOPLE - 1

    third = held_run(connection, directory, "OU=Third")
    lifecycle.reject_run(third, "olle", "not now")
    assert (third.status, third.error.split(" (")[0]) == ("failed", "rejected by olle: not now")
    with pytest.raises(LifecycleError, match="not held"):
        lifecycle.approve_run(third, "olle")
    decisions = [a for a in actions("ad") if a.startswith("run.")]
    assert decisions == ["run.approved", "run.approved", "run.rejected"]
