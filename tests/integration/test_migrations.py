"""A plan held before account refs (0011) comes back whole after the upgrade: its changes read
as today's, its refs and the refs moves and renames end with are there, and its approval still
binds to it (the fingerprint of the rewritten plan is the one the run keeps)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hrsync.app.models import Run
from hrsync.app.runs.plan_diff import stored_plan
from hrsync.domain.changes import MoveAccount, RenameAccount, SetManager, UpdateGroup

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("hrsync", "0013_contracts")]
AFTER = [("hrsync", "0014_plans_with_refs")]
DN = "CN=Berg\\, Anna,OU=People,DC=example,DC=test"
OLD_PLAN: list[dict[str, Any]] = [
    {"kind": "move", "person_id": "p1", "account_id": "a1", "dn": DN,
     "new_parent_dn": "OU=Finance,DC=example,DC=test", "reason": "moved in HR"},
    {"kind": "rename", "person_id": "p1", "account_id": "a1", "dn": DN,
     "new_cn": "Berg, Anna-Karin", "reason": "renamed in HR"},
    {"kind": "set_manager", "person_id": "p1", "account_id": "a1", "dn": DN, "before": None,
     "after": "CN=Ek\\, Per,OU=People,DC=example,DC=test", "reason": "manager in HR",
     "lineage": {"values": {"manager_id": "p2"}, "notes": {}}},
    {"kind": "update_group", "group_id": "g1", "dn": "CN=Stockholm,OU=Groups,DC=example,DC=test",
     "new_cn": "Göteborg", "before": {"displayName": "Stockholm"},
     "after": {"displayName": "Göteborg"}, "reason": "the unit was renamed in HR"},
]  # fmt: skip


def _digest(records: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _migrate(target: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_a_plan_held_before_account_refs_is_approvable_after_the_upgrade() -> None:
    old = _migrate(BEFORE)
    source = old.get_model("hrsync", "Source").objects.create(key="hr", kind="flexhrm")
    conn = old.get_model("hrsync", "Connection").objects.create(
        key="ad", source=source, kind="active_directory"
    )
    run = old.get_model("hrsync", "Run").objects.create(
        connection=conn, status="held", fingerprint=_digest(OLD_PLAN)
    )
    for record in OLD_PLAN:
        old.get_model("hrsync", "RunChange").objects.create(
            run=run, kind=record["kind"], ref=record["dn"], payload=record
        )

    _migrate(AFTER)

    held = Run.objects.get(pk=run.pk)
    plan = stored_plan(held)
    move, rename, manager, group = plan.changes
    assert isinstance(move, MoveAccount) and move.ref == DN
    assert move.new_container == "OU=Finance,DC=example,DC=test"
    assert move.new_ref == "CN=Berg\\, Anna,OU=Finance,DC=example,DC=test"
    assert isinstance(rename, RenameAccount) and rename.new_name == "Berg, Anna-Karin"
    assert rename.new_ref == "CN=Berg\\, Anna-Karin,OU=People,DC=example,DC=test"
    assert isinstance(manager, SetManager) and manager.lineage.values == {"manager_id": "p2"}
    assert isinstance(group, UpdateGroup) and group.new_name == "Göteborg"
    assert group.new_ref == "CN=Göteborg,OU=Groups,DC=example,DC=test"
    assert plan.fingerprint() == held.fingerprint != _digest(OLD_PLAN)


def test_a_plan_whose_fingerprint_no_longer_holds_is_not_vouched_for() -> None:
    old = _migrate(BEFORE)
    source = old.get_model("hrsync", "Source").objects.create(key="hr", kind="flexhrm")
    conn = old.get_model("hrsync", "Connection").objects.create(
        key="ad", source=source, kind="active_directory"
    )
    run = old.get_model("hrsync", "Run").objects.create(
        connection=conn, status="held", fingerprint="0" * 64
    )
    old.get_model("hrsync", "RunChange").objects.create(
        run=run, kind="move", ref=DN, payload=OLD_PLAN[0]
    )

    _migrate(AFTER)

    held = Run.objects.get(pk=run.pk)
    assert held.fingerprint == "0" * 64
    assert stored_plan(held).fingerprint() != held.fingerprint
