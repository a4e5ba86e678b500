"""SCIM load: 1,000 persons into a fresh scim2-server tenant through hrsync's engine and SCIM
target (read, plan, apply), against a raw sequential loop of the same POSTs with the same HTTP
client on another fresh tenant, in the same run; hrsync once one request a change and once by
/Bulk (scim2-server offers it); then an incremental run with 10 changes."""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from typing import Any

from hrsync.connectors.scim.client import build_http_client
from hrsync.connectors.scim.config import ScimConfig
from hrsync.connectors.scim.patch import MANAGER_PATH
from hrsync.connectors.scim.policy import ScimPolicy
from hrsync.connectors.scim.profile import scim_profile
from hrsync.connectors.scim.target import ScimTarget, user_resource
from hrsync.domain.changes import CreateAccount
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.plan import plan_changes
from hrsync.testing.scim import ScimServer, start_scim2_server

GOAL_RATIO = 1.3
GOAL_BULK_RATIO = 1.0
GOAL_INCREMENTAL_SECONDS = 2.0
TODAY = date(2026, 12, 7)


def people(count: int) -> list[Person]:
    return [
        Person(
            person_id=PersonId(f"b{n:05d}"),
            employee_number=EmployeeNumber(str(n)),
            given_name="Anna",
            family_name=f"Person{n}",
            employment=Employment("c1", "Acme Sverige AB", "Ekonom", None, date(2020, 1, 1)),
            email=f"anna.person{n}@example.test",
            manager_id=PersonId(f"b{(n - 1) // 10 * 10 + 1:05d}") if n % 10 != 1 else None,
        )
        for n in range(1, count + 1)
    ]


def _sync(
    server: ScimServer, persons: list[Person], *, bulk: bool = True
) -> tuple[float, dict[str, int]]:
    """One run as the engine does it: read the users, plan, apply; its wall time and counts.
    Without `bulk`, the profile lacks the batch capability: one request a change."""
    config = ScimConfig(url=server.url, token=server.token)  # type: ignore[arg-type]
    profile = scim_profile()
    if not bulk:
        capabilities = dataclasses.replace(profile.capabilities, batch=False)
        profile = dataclasses.replace(profile, capabilities=capabilities)
    policy = ScimPolicy(profile)
    target = ScimTarget(config, policy)
    started = time.perf_counter()
    target.prepare()
    accounts = list(target.read_accounts())
    plan = plan_changes(persons, accounts, {}, policy, TODAY)
    outcomes = apply_changes(plan.changes, target)
    seconds = time.perf_counter() - started
    target.close()
    failed = [o for o in outcomes if o.status is Status.FAILED]
    if failed:
        raise RuntimeError(f"{len(failed)} changes failed, e.g. {failed[0].error}")
    return seconds, plan.counts()


def _raw_payloads(persons: list[Person]) -> list[dict[str, Any]]:
    """The users hrsync creates, as JSON bodies built beforehand (not timed)."""
    policy = ScimPolicy(scim_profile())
    plan = plan_changes(persons, [], {}, policy, TODAY)
    bodies = []
    for change in plan.changes:
        if isinstance(change, CreateAccount):
            paths = [p for p, v in change.attributes.items() if v and p != MANAGER_PATH]
            bodies.append(user_resource(change.attributes, paths) | {"active": True})
    return bodies


def _raw_loop(server: ScimServer, bodies: list[dict[str, Any]]) -> float:
    config = ScimConfig(url=server.url, token=server.token)  # type: ignore[arg-type]
    with build_http_client(config) as http:
        started = time.perf_counter()
        for body in bodies:
            response = http.post("Users", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"raw POST: {response.status_code} {response.text[:200]}")
        return time.perf_counter() - started


def run(count: int = 1000) -> dict[str, float]:
    persons = people(count)
    server = start_scim2_server()
    try:
        bodies = _raw_payloads(persons)
        raw = _raw_loop(server.new_tenant(), bodies)
        single, _ = _sync(server.new_tenant(), persons, bulk=False)
        tenant = server.new_tenant()
        hrsync, counts = _sync(tenant, persons)
        changed = [
            dataclasses.replace(p, family_name=p.family_name + "son") if n % 100 == 0 else p
            for n, p in enumerate(persons)
        ]
        incremental, incremental_counts = _sync(tenant, changed)
    finally:
        server.stop()
    print(f"raw POST loop:  {len(bodies)} users in {raw:.2f} s")
    print(f"hrsync:         {single:.2f} s one request a change (read, plan, apply)")
    print(
        f"hrsync, bulk:   {counts['create']} users and {counts['set_manager']} managers in "
        f"{hrsync:.2f} s (creates by /Bulk, a batch ending before a report of its own manager)"
    )
    print(
        f"incremental:    {incremental_counts['update']} updates of {count} in {incremental:.2f} s"
    )
    return {
        "scim_ratio": single / raw,
        "scim_bulk_ratio": hrsync / raw,
        "scim_incremental_s": incremental,
    }
