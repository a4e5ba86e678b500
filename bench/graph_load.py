"""Graph load: 10,000 persons into the Graph simulator with 20 ms of latency on every request.
A raw sequential loop of the same `POST /users` with httpx2 against hrsync's first run (read,
plan, apply through the Microsoft 365 target: creates 20 to a `$batch`, then the managers), in
a process of its own whose peak RSS `measure` reports; a run reading the load's own writes back
(timed apart); then an incremental run with 10 changes, read through users/delta.
Goals: hrsync ÷ raw ≤ 0.5, incremental ≤ 2 s, peak RSS ≤ 300 MB."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.measure import measure
from hrsync.connectors.microsoft365.client import GraphClient, build_http_client
from hrsync.connectors.microsoft365.config import Microsoft365Config
from hrsync.connectors.microsoft365.delta import FileDeltaStore
from hrsync.connectors.microsoft365.policy import GraphPolicy
from hrsync.connectors.microsoft365.profile import MANAGER, MICROSOFT365_PROFILE, PERSON_ID
from hrsync.connectors.microsoft365.target import Microsoft365Target, random_password, wire_body
from hrsync.domain.changes import CreateAccount
from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Plan, Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.plan import plan_changes
from hrsync.simulators.graph import App, Faults, GraphSimulator

GOAL_RATIO = 0.5
GOAL_INCREMENTAL_SECONDS = 2.0
GOAL_RSS_MB = 300.0
LATENCY_MS = 20
CHANGES = 10
TODAY = date(2026, 12, 7)
APP = App("contoso.onmicrosoft.com", "00000000-0000-0000-0000-0000000bench", "bench-secret")


def run(count: int, workdir: Path) -> dict[str, float]:
    workdir.mkdir(parents=True, exist_ok=True)
    with GraphSimulator(APP, faults=Faults(latency_ms=LATENCY_MS)) as sim:
        config = config_for(sim.login_url, sim.graph_url)
        bodies = raw_bodies(people(count), config)
        raw = _raw_loop(config, bodies)
        sim.reset()
        sim.faults = Faults(latency_ms=LATENCY_MS)
        env = dict(os.environ) | {"PYTHONPATH": os.pathsep.join(sys.path)}
        command = [
            sys.executable, "-m", "bench.graph_load", str(count), sim.login_url, str(workdir)
        ]  # fmt: skip
        child = measure(command, env)
        users = len(sim.store.users)
    figures: dict[str, float] = json.loads(child.output.strip().splitlines()[-1])
    print(f"raw POST loop:  {len(bodies)} users one at a time in {raw:.2f} s")
    print(
        f"hrsync:         {users} users and their managers in {figures['graph_load_s']:.2f} s "
        f"(read, plan, apply; creates by $batch); peak RSS {child.peak_rss_mb:.0f} MB"
    )
    print(
        f"settling run:   {figures['graph_settle_s']:.2f} s (the load's own writes read back "
        "through delta, nothing planned)"
    )
    print(
        f"incremental:    {figures['graph_incremental_changes']:.0f} changes of {count} in "
        f"{figures['graph_incremental_s']:.2f} s (read {figures['graph_incremental_read_s']:.2f}"
        f" + plan {figures['graph_incremental_plan_s']:.2f} + apply "
        f"{figures['graph_incremental_apply_s']:.2f})"
    )
    return {
        "graph_ratio": figures["graph_load_s"] / raw,
        "graph_incremental_s": figures["graph_incremental_s"],
        "graph_rss_mb": child.peak_rss_mb,
    }


def config_for(login_url: str, graph_url: str) -> Microsoft365Config:
    return Microsoft365Config(
        tenant_id=APP.tenant,
        client_id=APP.client_id,
        client_secret=APP.client_secret,  # type: ignore[arg-type]
        login_url=login_url,
        graph_url=graph_url,
        upn_suffix="contoso.example",
        usage_location="NL",
    )


def people(count: int) -> list[Person]:
    """`count` persons, one in ten the manager of the nine after it."""
    return [
        Person(
            person_id=PersonId(f"g{n:05d}"),
            employee_number=EmployeeNumber(str(n)),
            given_name="Anna",
            family_name=f"Person{n}",
            employment=Employment("c1", "Contoso BV", "Adviseur", None, date(2020, 1, 1)),
            email=f"anna.person{n}@example.test",
            manager_id=PersonId(f"g{(n - 1) // 10 * 10 + 1:05d}") if n % 10 != 1 else None,
        )
        for n in range(1, count + 1)
    ]


def _policy(config: Microsoft365Config) -> GraphPolicy:
    return GraphPolicy(MICROSOFT365_PROFILE, config.upn_suffix, usage_location="NL")


def raw_bodies(persons: list[Person], config: Microsoft365Config) -> list[dict[str, Any]]:
    """The users hrsync creates, as the JSON bodies of single POSTs, built beforehand (not
    timed): what a hand-written script would send."""
    plan = plan_changes(persons, [], {}, _policy(config), TODAY)
    bodies = []
    for change in plan.changes:
        if isinstance(change, CreateAccount):
            attributes = {k: v for k, v in change.attributes.items() if k != MANAGER}
            body = wire_body(attributes, keep_none=False)
            password = {"password": random_password(), "forceChangePasswordNextSignIn": True}
            bodies.append(body | {"accountEnabled": True, "passwordProfile": password})
    return bodies


def _raw_loop(config: Microsoft365Config, bodies: list[dict[str, Any]]) -> float:
    """One `POST /users` after the other with one httpx2 client and one token."""
    tokens = GraphClient(config)
    headers = {"Authorization": f"Bearer {tokens.token()}"}
    tokens.close()
    with build_http_client(config) as http:
        started = time.perf_counter()
        for body in bodies:
            response = http.post(f"{config.graph_url}/users", json=body, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"raw POST: {response.status_code} {response.text[:200]}")
        return time.perf_counter() - started


def _sync(target: Microsoft365Target, persons: list[Person], times: dict[str, float]) -> Plan:
    """One run as the engine does it: read the users and names in use, link by the person id
    written on each, plan, apply; every change applied. `times` gets the read's, the plan's
    and the apply's seconds."""
    started = time.perf_counter()
    accounts = list(target.read_accounts())
    links = {
        PersonId(a.attributes[PERSON_ID]): AccountId(a.account_id)
        for a in accounts
        if a.attributes.get(PERSON_ID)
    }
    reserved = list(target.read_reserved_names())
    read = time.perf_counter()
    plan = plan_changes(persons, accounts, links, target.policy, TODAY, reserved_names=reserved)
    planned = time.perf_counter()
    failed = [o for o in apply_changes(plan.changes, target) if o.status is not Status.APPLIED]
    times |= {"read": read - started, "plan": planned - read}
    times["apply"] = time.perf_counter() - planned
    if failed:
        raise RuntimeError(f"{len(failed)} changes failed, e.g. {failed[0].error}")
    return plan


def _child(count: int, base_url: str, workdir: Path) -> None:
    """The hrsync part, in a process of its own: the first load, then 10 HR edits read back
    through users/delta (the state kept in `workdir`, as a connection keeps it)."""
    config = config_for(base_url, f"{base_url}/v1.0")
    delta = FileDeltaStore(workdir / "graph-delta.json")
    target = Microsoft365Target(config, _policy(config), delta=delta)
    persons = people(count)
    times: dict[str, float] = {}
    started = time.perf_counter()
    _sync(target, persons, times)
    loaded = time.perf_counter()
    # The next scheduled run reads back the first run's own writes (every user, by delta) and
    # plans nothing; it is timed apart, as it happens once after a load.
    _sync(target, persons, times)
    settled = time.perf_counter()
    step = max(1, count // CHANGES)
    changed = [
        dataclasses.replace(p, family_name=p.family_name + "sen") if n % step == 0 else p
        for n, p in enumerate(persons)
    ]
    again = time.perf_counter()
    plan = _sync(target, changed, times)
    done = time.perf_counter()
    target.close()
    figures = {
        "graph_load_s": loaded - started,
        "graph_settle_s": settled - loaded,
        "graph_incremental_s": done - again,
        "graph_incremental_changes": float(len(plan.changes)),
    } | {f"graph_incremental_{step}_s": seconds for step, seconds in times.items()}
    print(json.dumps(figures))


if __name__ == "__main__":
    _child(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
