"""Every planned value carries its lineage, and moves never collide with a CN in the new OU."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from hrsync.connectors.active_directory.rules import parse_placement
from hrsync.domain.changes import (
    CreateAccount,
    ManualStep,
    MoveAccount,
    RenameAccount,
    UpdateAttributes,
)
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.lineage import Explained, explain
from hrsync.domain.person import Person
from hrsync.domain.plan import Plan, Status, deserialise_change, serialise_changes
from hrsync.engine.apply import apply_changes
from hrsync.engine.lifecycle_dates import LifecyclePolicy
from hrsync.engine.lineage import PARENT
from hrsync.engine.plan import MAPPING_FAILED, plan_changes
from hrsync.mapping.rules import parse_rules
from tests.unit.memory_target import MemoryDirectory
from tests.unit.test_engine_plan import POLICY, TODAY, person

BASE = "DC=example,DC=test"
PLACED = dataclasses.replace(
    POLICY,
    base_dn=BASE,
    placement=parse_placement('Switch([org.Department], "People", "Sales", "Sales")'),
    rules=parse_rules({"title": "ToUpper([title])"}, "employeeNumber"),
)


def in_department(number: int, department: str, **changes: object) -> Person:
    return person(number, organisation=(("Department", department),), **changes)


def plan_and_apply(people: list[Person], directory: MemoryDirectory) -> Plan:
    plan = plan_changes(people, directory.read_accounts(), {}, PLACED, TODAY)
    outcomes = apply_changes(plan.changes, directory)
    assert all(o.status is Status.APPLIED for o in outcomes), outcomes
    return plan


def why(plan: Plan, change: CreateAccount | UpdateAttributes | MoveAccount, name: str) -> Explained:
    explained = explain(name, plan.derivations, change.lineage)
    assert explained is not None, f"no lineage for {name}"
    return explained


def test_a_created_account_explains_every_value_it_sets() -> None:
    manager = in_department(1, "Sales", given_name="Maja", family_name="Chef")
    report = in_department(2, "Sales", manager_id="p1")
    plan = plan_and_apply([manager, report], MemoryDirectory())
    create = next(c for c in plan.changes if isinstance(c, CreateAccount) and c.person_id == "p2")

    for name in [*create.attributes, "cn", PARENT]:
        why(plan, create, name)
    assert why(plan, create, "givenName") == Explained(
        "[given_name]", "default", {"given_name": "Anna"}
    )
    assert why(plan, create, "title") == Explained(
        "ToUpper([title])", "override", {"title": "Ekonom"}
    )
    assert why(plan, create, "manager").fields == {"manager_id": "p1"}
    assert why(plan, create, "sAMAccountName").source == "hrsync"


def test_why_is_anna_in_ou_sales_is_answered_by_the_move() -> None:
    directory = MemoryDirectory()
    plan_and_apply([in_department(1, "Finance")], directory)

    plan = plan_and_apply([in_department(1, "Sales")], directory)

    (move,) = [c for c in plan.changes if isinstance(c, MoveAccount)]
    assert move.new_container == f"OU=Sales,{BASE}"
    explained = why(plan, move, PARENT)
    assert (explained.source, explained.fields) == ("placement", {"org.Department": "Sales"})
    assert explained.rule.startswith("Switch([org.Department]")


def test_an_update_records_only_what_its_rules_read() -> None:
    directory = MemoryDirectory()
    plan_and_apply([in_department(1, "Sales")], directory)
    moved_on = dataclasses.replace(in_department(1, "Sales"), mobile="070-123 45 67")

    plan = plan_and_apply([moved_on], directory)

    (update,) = plan.changes
    assert isinstance(update, UpdateAttributes)
    assert set(update.after) == {"mobile"}
    assert update.lineage.values == {"mobile": "070-123 45 67"}


def test_a_leaver_in_the_leavers_ou_is_explained_by_the_lifecycle() -> None:
    directory = MemoryDirectory()
    plan_and_apply([in_department(1, "Sales")], directory)
    lifecycle = LifecyclePolicy(leavers_ou=f"OU=Leavers,{BASE}")
    gone = in_department(1, "Sales")
    gone = dataclasses.replace(
        gone, employment=dataclasses.replace(gone.employment, end_date=TODAY - timedelta(days=3))
    )

    plan = plan_changes([gone], directory.read_accounts(), {}, PLACED, TODAY, lifecycle=lifecycle)

    (move,) = [c for c in plan.changes if isinstance(c, MoveAccount)]
    explained = why(plan, move, PARENT)
    assert explained.source == "hrsync"
    assert explained.rule.startswith("the leavers OU")


def test_lineage_survives_storing_and_keeps_the_fingerprint() -> None:
    plan = plan_changes([in_department(1, "Sales")], [], {}, PLACED, TODAY)
    records = json.loads(json.dumps(serialise_changes(plan.changes)))

    again = Plan(tuple(deserialise_change(record) for record in records))

    assert again == plan
    assert again.fingerprint() == plan.fingerprint()


def test_a_change_without_lineage_is_stored_as_before() -> None:
    """Plans held before lineage existed keep their fingerprints when approved after an upgrade."""
    change = RenameAccount(PersonId("p1"), AccountId("a1"), f"CN=A,{BASE}", "B", "name changed")
    (record,) = serialise_changes((change,))
    assert "lineage" not in record
    assert deserialise_change(record) == change


def test_a_move_into_an_ou_holding_the_same_cn_renames_first() -> None:
    directory = MemoryDirectory()
    plan_and_apply([in_department(1, "Sales"), in_department(2, "Finance")], directory)

    plan = plan_and_apply([in_department(1, "Sales"), in_department(2, "Sales")], directory)

    rename, move = plan.changes[:2]
    assert isinstance(rename, RenameAccount) and isinstance(move, MoveAccount)
    assert rename.new_name == "Anna Andersson (2)"
    assert "taken in the OU" in rename.reason
    dns = sorted(a.ref for a in directory.read_accounts())
    assert dns == [f"CN=Anna Andersson (2),OU=Sales,{BASE}", f"CN=Anna Andersson,OU=Sales,{BASE}"]
    assert plan_changes(
        [in_department(1, "Sales"), in_department(2, "Sales")],
        directory.read_accounts(),
        {},
        PLACED,
        TODAY,
    ).is_empty


def test_two_namesakes_moving_into_one_ou_get_distinct_cns() -> None:
    directory = MemoryDirectory()
    plan_and_apply([in_department(1, "Finance"), in_department(2, "People")], directory)

    plan_and_apply([in_department(1, "Sales"), in_department(2, "Sales")], directory)

    cns = sorted(a.attributes["cn"] or "" for a in directory.read_accounts())
    assert cns == ["Anna Andersson", "Anna Andersson (2)"]


def test_a_failing_rule_is_a_manual_step_naming_the_attribute() -> None:
    policy = dataclasses.replace(
        PLACED,
        rules=parse_rules(
            {"title": 'FormatDateTime([title], "yyyyMMdd", "yyyy")'}, "employeeNumber"
        ),
    )
    plan = plan_changes([in_department(1, "Sales")], [], {}, policy, TODAY)

    (create,) = [c for c in plan.changes if isinstance(c, CreateAccount)]
    (step,) = [c for c in plan.changes if isinstance(c, ManualStep)]
    assert "title" not in create.attributes
    assert step.reason == MAPPING_FAILED
    assert list(step.detail) == ["title"]
    assert "FormatDateTime" in step.detail["title"]
    assert step.ref == create.ref
