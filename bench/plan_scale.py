"""Plan at scale: 50,000 persons with groups, against a directory that already holds them, with
1 % of the persons changed in HR. The plan alone is timed (goal ≤ 5 s) and the planning
process's peak memory measured (goal ≤ 500 MB).

The directory is what hrsync's own first plan would have made of these persons — accounts and
groups built from its creates — so the second plan meets exactly the state a real first run
leaves. The persons are read over HTTP from the Flex HRM simulator, in a process of their own
whose peak RSS `measure` reports; the simulator runs in the parent.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import ldap.dn

from bench.measure import measure
from hrsync.connectors.active_directory.dn import parent_of
from hrsync.connectors.active_directory.group_naming import DirectoryGroupNaming
from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.source import FlexHrmSource
from hrsync.domain.account import Account
from hrsync.domain.changes import AddMembers, CreateAccount, CreateGroup
from hrsync.domain.groups import Group
from hrsync.domain.ids import AccountId
from hrsync.domain.person import Person
from hrsync.engine.accounts_after import accounts_after
from hrsync.engine.groups import GroupPolicy, plan_groups
from hrsync.engine.plan import plan_changes
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset

BASE = "DC=example,DC=test"
POLICY = DirectoryPolicy(f"OU=People,{BASE}", "example.test")
GROUPS = GroupPolicy(
    levels=("Office", "Department"), naming=DirectoryGroupNaming(f"OU=Groups,{BASE}")
)
PASSWORD = "bench-secret"
GOAL_SECONDS = 5.0
GOAL_RSS_MB = 500.0


def run(count: int, workdir: Path) -> dict[str, float]:
    workdir.mkdir(parents=True, exist_ok=True)
    sim = FlexSimulator(
        generate_dataset(count=count, seed=50), credentials=Credentials("acme", "api", PASSWORD)
    )
    sim.start()
    try:
        env = dict(os.environ) | {"PYTHONPATH": os.pathsep.join(sys.path)}
        child = measure([sys.executable, "-m", "bench.plan_scale", sim.url], env)
    finally:
        sim.stop()
    figures: dict[str, float] = json.loads(child.output.strip().splitlines()[-1])
    figures["plan_50k_rss_mb"] = child.peak_rss_mb
    print(
        f"plan at scale: {figures['persons']:.0f} persons, {figures['accounts']:.0f} accounts, "
        f"{figures['groups']:.0f} groups, {figures['changed_persons']:.0f} changed in HR: "
        f"plan {figures['plan_50k_seconds']:.2f} s (accounts {figures['accounts_seconds']:.2f} s "
        f"+ groups {figures['groups_seconds']:.2f} s), {figures['planned_changes']:.0f} changes; "
        f"peak RSS {child.peak_rss_mb:.0f} MB (read {figures['read_seconds']:.1f} s)"
    )
    return figures


def _child(url: str) -> None:
    started = time.perf_counter()
    config = FlexHrmConfig(url=url, instance="acme", username="api", password=PASSWORD)
    with FlexHrmSource(config) as source:
        people = [item for item in source.read_people(None) if isinstance(item, Person)]
    read_seconds = time.perf_counter() - started
    today = date.today()
    accounts, groups = _directory_holding(people, today)
    changed = _changed(people)

    started = time.perf_counter()
    plan = plan_changes(changed, accounts, {}, POLICY, today)
    accounts_seconds = time.perf_counter() - started
    after = accounts_after(accounts, {}, plan.changes, POLICY.person_id_attribute, AD_PROFILE)
    group_changes = plan_groups(changed, groups, after, GROUPS, today=today)
    total = time.perf_counter() - started
    print(
        json.dumps(
            {
                "persons": len(people),
                "accounts": len(accounts),
                "groups": len(groups),
                "changed_persons": sum(a is not b for a, b in zip(people, changed, strict=True)),
                "planned_changes": len(plan.changes) + len(group_changes),
                "read_seconds": read_seconds,
                "accounts_seconds": accounts_seconds,
                "groups_seconds": total - accounts_seconds,
                "plan_50k_seconds": total,
            }
        )
    )


def _directory_holding(people: list[Person], today: date) -> tuple[list[Account], list[Group]]:
    """The accounts and groups hrsync's first run would leave for these persons."""
    first = plan_changes(people, [], {}, POLICY, today)
    accounts = [_account(c) for c in first.changes if isinstance(c, CreateAccount)]
    after = accounts_after(accounts, {}, (), POLICY.person_id_attribute, AD_PROFILE)
    changes = plan_groups(people, [], after, GROUPS, today=today)
    members: dict[str, list[str]] = {}
    for change in changes:
        if isinstance(change, AddMembers):
            members.setdefault(change.ref, []).extend(change.members)
    groups = [
        Group(
            c.group_id,
            c.ref,
            dict(c.attributes) | {"cn": _cn(c.ref)},
            tuple(members.get(c.ref, ())),
        )
        for c in changes
        if isinstance(c, CreateGroup)
    ]
    return accounts, groups


def _cn(dn: str) -> str:
    """The CN as the directory returns it: unescaped."""
    value: str = ldap.dn.str2dn(dn)[0][0][1]
    return value


def _account(create: CreateAccount) -> Account:
    attributes = dict(create.attributes) | {"cn": _cn(create.ref)}
    account_id = AccountId(str(uuid.uuid4()))
    return Account(account_id, create.ref, create.is_enabled, attributes, parent_of(create.ref))


def _changed(people: list[Person]) -> list[Person]:
    """Every hundredth person with a new title: 1 % changed in HR."""
    return [
        dataclasses.replace(
            p, employment=dataclasses.replace(p.employment, title=f"Bench title {n}")
        )
        if n % 100 == 0
        else p
        for n, p in enumerate(people)
    ]


if __name__ == "__main__":
    _child(sys.argv[1])
