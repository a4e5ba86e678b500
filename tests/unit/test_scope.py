"""Connection scopes: conditions on person fields, their validation, and what the planner does
with a person outside the scope."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.domain.account import Account
from hrsync.domain.changes import CreateAccount, DeleteAccount, DisableAccount
from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Plan, Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.conditions import Condition, condition_holds, describe_condition
from hrsync.engine.plan import plan_changes
from hrsync.engine.scope import (
    PERSON_FIELDS,
    OutOfScope,
    ScopePolicy,
    person_subject,
    scope_problems,
    why_out_of_scope,
)
from tests.unit.memory_target import MemoryDirectory

TODAY = date(2026, 11, 28)
USERS = "OU=People,DC=example,DC=test"
POLICY = DirectoryPolicy(users_ou=USERS, upn_suffix="example.test")
NOT_EXTERNAL = Condition("employment_type", "not_equals", "External Personnel")


def person(
    number: int,
    kind: str = "Tillsvidareanställning",
    company: str = "Acme Sverige AB",
    manager: int | None = None,
) -> Person:
    return Person(
        PersonId(f"p{number}"),
        EmployeeNumber(str(number)),
        "Anna",
        f"Berg{number}",
        Employment("c1", company, "Ekonom", kind, date(2020, 1, 1)),
        manager_id=PersonId(f"p{manager}") if manager else None,
        organisation=(("Office", "Stockholm"), ("Department", "Ekonomi"), ("Team", "Lön")),
    )


@pytest.mark.parametrize(
    ("scope", "who", "left"),
    [
        (ScopePolicy(), person(1), None),
        (ScopePolicy((NOT_EXTERNAL,)), person(1), None),
        (
            ScopePolicy((NOT_EXTERNAL,)),
            person(1, "External Personnel"),
            'employment_type not_equals "External Personnel"',
        ),
        (ScopePolicy((NOT_EXTERNAL,)), person(1, " external personnel "), "not_equals"),
        (ScopePolicy(companies=("Acme Sverige AB",)), person(1), None),
        (ScopePolicy(companies=("C1",)), person(1), None),  # the company id counts too
        (
            ScopePolicy(companies=("Acme Norden AB", "Acme Danmark A/S")),
            person(1),
            'company in ["Acme Norden AB", "Acme Danmark A/S"]',
        ),
        (
            ScopePolicy((Condition("company", "in", ("Acme Norden AB",)),)),
            person(1),
            'company in ["Acme Norden AB"]',
        ),
        (
            ScopePolicy((Condition("organisation_path", "starts_with", "stockholm/ekonomi"),)),
            person(1),
            None,
        ),
        (
            ScopePolicy((Condition("organisation_path", "starts_with", "Göteborg/"),)),
            person(1),
            'organisation_path starts_with "Göteborg/"',
        ),
        (ScopePolicy((Condition("org.Team", "equals", "Lön"),)), person(1), None),
        (ScopePolicy((Condition("is_external", "equals", "no"),)), person(1), None),
        (
            ScopePolicy(
                (NOT_EXTERNAL, Condition("company", "equals", "Acme Norden AB")), match="any"
            ),
            person(1, "External Personnel"),
            'none of: employment_type not_equals "External Personnel"; company equals',
        ),
        (
            ScopePolicy((NOT_EXTERNAL, Condition("company", "equals", "x")), match="any"),
            person(1),
            None,
        ),
    ],
)
def test_who_is_in_the_scope(scope: ScopePolicy, who: Person, left: str | None) -> None:
    found = why_out_of_scope(who, scope)
    if left is None:
        assert found is None
    else:
        assert found is not None and left in found


def test_the_subject_offers_every_documented_field() -> None:
    subject = person_subject(person(1))
    assert subject["organisation_path"] == "Stockholm/Ekonomi/Lön"
    assert subject["company"] == "Acme Sverige AB"
    assert subject["org.Department"] == "Ekonomi"
    assert set(subject) - {"org.Office", "org.Department", "org.Team"} <= PERSON_FIELDS


@given(st.text(max_size=12), st.text(max_size=12))
def test_starts_with_is_a_prefix_of_the_trimmed_folded_text(head: str, tail: str) -> None:
    subject = {"title": head + tail}
    holds = condition_holds(Condition("title", "starts_with", head), subject)
    assert holds is (head + tail).strip().casefold().startswith(head.strip().casefold())


@pytest.mark.parametrize(
    ("match", "condition", "problem"),
    [
        ("all", Condition("employment", "equals", "x"), "did you mean 'employment_type'?"),
        ("all", Condition("org.", "equals", "x"), "a person has no field 'org.'"),
        ("all", Condition("org.Office", "startswith", "x"), "did you mean 'starts_with'?"),
        ("all", Condition("company", "in", "Acme"), "takes a list of values"),
        ("all", Condition("is_external", "starts_with", "t"), "does not apply to 'is_external'"),
        ("all", Condition("email", "is_empty", "x"), "takes no value"),
        ("some", NOT_EXTERNAL, "match is 'all' or 'any', not 'some'"),
    ],
)
def test_scope_problems_are_explained(match: str, condition: Condition, problem: str) -> None:
    assert any(problem in found for found in scope_problems(match, [condition]))


def test_a_sound_scope_has_no_problems() -> None:
    conditions = [
        NOT_EXTERNAL,
        Condition("company", "in", ("Acme Sverige AB",)),
        Condition("organisation_path", "starts_with", "Stockholm/"),
        Condition("custom.gender", "is_not_empty"),
        Condition("org.Department", "equals", "Ekonomi"),
    ]
    assert scope_problems("any", conditions) == []


def test_a_condition_reads_as_written() -> None:
    assert describe_condition(NOT_EXTERNAL) == 'employment_type not_equals "External Personnel"'
    assert describe_condition(Condition("email", "is_empty")) == "email is_empty"
    assert describe_condition(Condition("start_date", "in", (1, True))) == "start_date in [1, true]"


# --- the planner --------------------------------------------------------------------------------

EXCLUDE_EXTERNALS = ScopePolicy((NOT_EXTERNAL,))


def run(people: list[Person], directory: MemoryDirectory, scope: ScopePolicy) -> Plan:
    plan = plan_changes(people, directory.read_accounts(), {}, POLICY, TODAY, scope=scope)
    outcomes = apply_changes(plan.changes, directory)
    assert all(o.status in (Status.APPLIED, Status.DEFERRED) for o in outcomes), outcomes
    return plan


def test_a_person_outside_the_scope_gets_no_account() -> None:
    directory = MemoryDirectory()
    plan = run([person(1), person(2, "External Personnel")], directory, EXCLUDE_EXTERNALS)
    assert [c.person_id for c in plan.changes if isinstance(c, CreateAccount)] == ["p1"]
    assert run([person(1), person(2, "External Personnel")], directory, EXCLUDE_EXTERNALS).is_empty


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        (OutOfScope.DISABLE, DisableAccount),
        (OutOfScope.DELETE, DeleteAccount),
        (OutOfScope.LEAVE, None),
    ],
)
def test_a_person_leaving_the_scope_gets_the_configured_action(
    action: OutOfScope, kind: type | None
) -> None:
    directory = MemoryDirectory()
    scope = ScopePolicy(companies=("Acme Sverige AB",), when_out_of_scope=action)
    run([person(1), person(2)], directory, scope)
    moved = [person(1), person(2, company="Acme Norden AB")]
    plan = run(moved, directory, scope)
    if kind is None:
        assert plan.is_empty
    else:
        (change,) = plan.changes
        assert isinstance(change, kind)
        assert change.person_id == "p2"
        assert change.reason == 'left the scope: company in ["Acme Sverige AB"]'
    assert run(moved, directory, scope).is_empty  # and nothing more on the next run


def test_an_account_outside_the_connections_ous_is_left_alone() -> None:
    elsewhere = Account(
        AccountId("g1"),
        "CN=Anna Berg2,OU=Consultants,DC=example,DC=test",
        True,
        {"employeeNumber": "p2"},
        container="OU=Consultants,DC=example,DC=test",
    )
    plan = plan_changes(
        [person(2, "External Personnel")], [elsewhere], {}, POLICY, TODAY, scope=EXCLUDE_EXTERNALS
    )
    assert plan.is_empty


def test_a_manager_outside_the_scope_is_still_the_reports_manager() -> None:
    directory = MemoryDirectory()
    boss = person(1, "External Personnel")
    everyone = ScopePolicy()
    run([boss], directory, everyone)
    (boss_dn,) = (a.ref for a in directory.accounts.values())
    leave = dataclasses.replace(EXCLUDE_EXTERNALS, when_out_of_scope=OutOfScope.LEAVE)
    plan = run([boss, person(2, manager=1)], directory, leave)
    (create,) = plan.changes
    assert isinstance(create, CreateAccount)
    assert create.attributes["manager"] == boss_dn


def test_an_account_a_placement_rule_put_elsewhere_is_still_the_connections() -> None:
    """Linked to the connection's person, the account is its own wherever it lies."""
    placed = Account(
        AccountId("g1"),
        "CN=Anna Berg2,OU=Stockholm,OU=Staff,DC=example,DC=test",
        True,
        {"employeeNumber": "p2"},
        container="OU=Stockholm,OU=Staff,DC=example,DC=test",
    )
    links = {PersonId("p2"): AccountId("g1")}
    plan = plan_changes(
        [person(2, "External Personnel")], [placed], links, POLICY, TODAY, scope=EXCLUDE_EXTERNALS
    )
    (change,) = plan.changes
    assert isinstance(change, DisableAccount)
    assert change.ref == placed.ref
