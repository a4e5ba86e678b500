"""Incremental reads through users/delta against the Graph simulator over loopback: a later run
reads only the changes (HR's and those made by hand in Entra), merged into the users as last
read, and plans from them as from a full read; an expired deltaLink (410 syncStateNotFound), a
missing or unreadable state and a changed mapping fall back to a full read."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.test_microsoft365_target import APP, person, run, target_for, user_of

from hrsync.connectors.microsoft365.delta import FileDeltaStore
from hrsync.connectors.microsoft365.target import Microsoft365Target
from hrsync.domain.changes import SetManager, UpdateAttributes, kind_of
from hrsync.simulators.graph import GraphSimulator


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    with GraphSimulator(APP) as simulator:
        yield simulator


def delta_target(sim: GraphSimulator, state: Path) -> Microsoft365Target:
    target = target_for(sim)
    return Microsoft365Target(target.config, target.policy, delta=FileDeltaStore(state))


def reads(sim: GraphSimulator) -> list[str]:
    """The paths of the GETs of users since the log was last reset."""
    return [p for m, p in sim.requests if m == "GET" and p.startswith("/users")]


def test_a_later_run_reads_only_the_changes(sim: GraphSimulator, tmp_path: Path) -> None:
    state = tmp_path / "graph-delta.json"
    people = [person(n, manager_id=None if n % 5 == 0 else person(n // 5 * 5).person_id)
              for n in range(30)]  # fmt: skip
    first = run(delta_target(sim, state), people)
    assert first.counts()["create"] == 30 and state.exists()

    sim.reset_log()
    assert not run(delta_target(sim, state), people).changes  # nothing changed: nothing to do
    assert reads(sim) == ["/users/delta"]  # one page of changes, no listing of every user

    edited = [dataclasses.replace(p, family_name="Ek") if n in (3, 4) else p
              for n, p in enumerate(people)]  # fmt: skip
    sim.reset_log()
    plan = run(delta_target(sim, state), edited)
    assert {kind_of(c) for c in plan.changes} == {"update"}
    assert len({c.ref for c in plan.changes}) == 2
    assert reads(sim) == ["/users/delta"]


def test_changes_made_by_hand_in_entra_are_seen_and_put_back(
    sim: GraphSimulator, tmp_path: Path
) -> None:
    state = tmp_path / "graph-delta.json"
    people = [person(n, manager_id=None if n == 0 else person(0).person_id) for n in range(6)]
    run(delta_target(sim, state), people)
    tampered = user_of(sim, "p00002")
    sim.store.update(str(tampered["id"]), {"jobTitle": "Hacker"})
    sim.store.clear_manager(str(user_of(sim, "p00003")["id"]))

    sim.reset_log()
    plan = run(delta_target(sim, state), people)
    assert reads(sim) == ["/users/delta"]
    updates = [c for c in plan.changes if isinstance(c, UpdateAttributes)]
    assert [(c.ref, c.after.get("jobTitle")) for c in updates] == [(tampered["id"], "Ekonom")]
    managers = [c for c in plan.changes if isinstance(c, SetManager)]
    assert [c.ref for c in managers] == [user_of(sim, "p00003")["id"]]
    assert user_of(sim, "p00002")["jobTitle"] == "Ekonom"
    assert sim.store.managers[str(user_of(sim, "p00003")["id"])] == user_of(sim, "p00000")["id"]


def test_a_user_deleted_by_hand_is_dropped_from_the_state(
    sim: GraphSimulator, tmp_path: Path
) -> None:
    state = tmp_path / "graph-delta.json"
    people = [person(n) for n in range(4)]
    run(delta_target(sim, state), people)
    gone = str(user_of(sim, "p00001")["id"])
    sim.store.delete(gone)
    target = delta_target(sim, state)
    assert gone not in {a.account_id for a in target.read_accounts()}
    assert gone not in json.loads(state.read_text())["users"]


def test_an_expired_delta_link_falls_back_to_a_full_read(
    sim: GraphSimulator, tmp_path: Path
) -> None:
    state = tmp_path / "graph-delta.json"
    people = [person(n) for n in range(5)]
    run(delta_target(sim, state), people)
    link = json.loads(state.read_text())["delta_link"]
    sim.store.expire_delta_links()
    sim.store.update(str(user_of(sim, "p00004")["id"]), {"jobTitle": "Hacker"})

    sim.reset_log()
    plan = run(delta_target(sim, state), people)
    assert sim.statuses[0] == 410  # the old link, refused; then a new round
    assert [kind_of(c) for c in plan.changes] == ["update"]
    assert json.loads(state.read_text())["delta_link"] != link
    sim.reset_log()
    assert not run(delta_target(sim, state), people).changes
    assert sim.statuses == [200]


def test_an_unreadable_state_or_a_changed_mapping_reads_everyone(
    sim: GraphSimulator, tmp_path: Path
) -> None:
    state = tmp_path / "graph-delta.json"
    people = [person(n) for n in range(3)]
    run(delta_target(sim, state), people)
    state.write_text("{not json")
    assert len(list(delta_target(sim, state).read_accounts())) == 3
    stored = json.loads(state.read_text())
    state.write_text(
        json.dumps(stored | {"select": "id", "users": {}})
    )  # read with another $select
    assert len(list(delta_target(sim, state).read_accounts())) == 3
