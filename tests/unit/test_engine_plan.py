"""The planner: what it plans for joiners, movers and leavers, and its properties."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.domain.changes import CreateAccount, DisableAccount, ManualStep, SetManager
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Plan, Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.focus import focus_plan
from hrsync.engine.plan import MANAGER_UNRESOLVED, plan_changes
from hrsync.mapping.rules import parse_rule
from tests.unit.memory_target import MemoryDirectory

TODAY = date(2026, 11, 28)
POLICY = DirectoryPolicy(users_ou="OU=People,DC=example,DC=test", upn_suffix="example.test")


def person(
    number: int, given: str = "Anna", family: str = "Andersson", **changes: object
) -> Person:
    base = Person(
        person_id=PersonId(f"p{number}"),
        employee_number=EmployeeNumber(str(number)),
        given_name=given,
        family_name=family,
        employment=Employment("c1", "Acme Sverige AB", "Ekonom", "Tillsvidare", date(2020, 1, 1)),
        email=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def ended(p: Person, days_ago: int = 1) -> Person:
    return dataclasses.replace(
        p, employment=dataclasses.replace(p.employment, end_date=TODAY - timedelta(days=days_ago))
    )


def run(people: list[Person], directory: MemoryDirectory) -> Plan:
    plan = plan_changes(people, directory.read_accounts(), {}, POLICY, TODAY)
    outcomes = apply_changes(plan.changes, directory)
    assert all(o.status in (Status.APPLIED, Status.DEFERRED) for o in outcomes), outcomes
    return plan


def test_two_people_with_the_same_name_get_distinct_names() -> None:
    directory = MemoryDirectory()
    plan = run([person(1), person(2)], directory)
    creates = [c for c in plan.changes if isinstance(c, CreateAccount)]
    sams = {c.attributes["sAMAccountName"] for c in creates}
    upns = {c.attributes["userPrincipalName"] for c in creates}
    assert sams == {"aandersson", "aandersson2"}
    assert upns == {"anna.andersson@example.test", "anna.andersson2@example.test"}
    assert {c.ref for c in creates} == {
        "CN=Anna Andersson,OU=People,DC=example,DC=test",
        "CN=Anna Andersson (2),OU=People,DC=example,DC=test",
    }


def test_diacritics_fold_into_login_names_but_stay_in_display_names() -> None:
    plan = run([person(1, "Åsa", "Öberg-Lindqvist")], MemoryDirectory())
    (create,) = plan.changes
    assert isinstance(create, CreateAccount)
    assert create.attributes["sAMAccountName"] == "aoberg-lindqvist"
    assert create.attributes["displayName"] == "Åsa Öberg-Lindqvist"


def test_long_names_are_cut_to_twenty_characters() -> None:
    (create,) = run(
        [person(1, "Karl-Johan", "Wachtmeister af Johannishus")], MemoryDirectory()
    ).changes
    assert isinstance(create, CreateAccount)
    assert len(create.attributes["sAMAccountName"] or "") <= 20


def test_hostile_names_are_escaped_in_the_dn() -> None:
    (create,) = run([person(1, "#Eve", 'Boss, "Admin" <x>;')], MemoryDirectory()).changes
    assert isinstance(create, CreateAccount)
    assert create.ref == r"CN=\#Eve Boss\, \"Admin\" \<x\>\;,OU=People,DC=example,DC=test"


def test_a_leaver_without_account_is_not_created() -> None:
    assert run([ended(person(1))], MemoryDirectory()).is_empty


def test_a_leaver_with_an_account_is_disabled_not_deleted() -> None:
    directory = MemoryDirectory()
    run([person(1)], directory)
    plan = run([ended(person(1), days_ago=3)], directory)
    assert [type(c) for c in plan.changes] == [DisableAccount]
    assert "employment ended on 2026-11-25" in plan.changes[0].reason
    assert len(directory.accounts) == 1


def test_a_pre_hire_is_created_disabled_and_enabled_on_the_start_date() -> None:
    start = TODAY + timedelta(days=5)
    hire = person(1, employment=Employment("c1", "Acme", start_date=start))
    directory = MemoryDirectory()
    (create,) = run([hire], directory).changes
    assert isinstance(create, CreateAccount) and not create.is_enabled
    plan = plan_changes([hire], directory.read_accounts(), {}, POLICY, start)
    assert plan.counts()["enable"] == 1


def test_managers_are_created_before_their_reports() -> None:
    boss = person(1, "Östen", "Ähl")
    report = person(2, "Märta", "Berg", manager_id=boss.person_id)
    directory = MemoryDirectory()
    plan = run([report, boss], directory)
    creates = [c for c in plan.changes if isinstance(c, CreateAccount)]
    assert [c.person_id for c in creates] == ["p1", "p2"]
    assert creates[1].attributes["manager"] == creates[0].ref


def test_an_unknown_manager_is_a_manual_step_naming_them() -> None:
    report = person(2, manager_id=PersonId("ghost"))
    plan = run([report], MemoryDirectory())
    manual = [c for c in plan.changes if isinstance(c, ManualStep)]
    assert len(manual) == 1 and manual[0].reason == MANAGER_UNRESOLVED
    assert manual[0].detail["manager_id"] == "ghost"


def test_a_manager_cycle_is_reported_and_still_converges() -> None:
    a = person(1, "Ada", "Ek", manager_id=PersonId("p2"))
    b = person(2, "Bo", "Ek", manager_id=PersonId("p1"))
    directory = MemoryDirectory()
    plan = run([a, b], directory)
    assert any(isinstance(c, ManualStep) and "cycle" in c.reason for c in plan.changes)
    second = run([a, b], directory)
    assert [type(c) for c in second.changes] == [SetManager]
    assert run([a, b], directory).is_empty


def test_a_name_change_renames_and_updates() -> None:
    directory = MemoryDirectory()
    run([person(1)], directory)
    plan = run([person(1, family="Lind")], directory)
    assert plan.counts()["rename"] == 1 and plan.counts()["update"] == 1
    assert run([person(1, family="Lind")], directory).is_empty


def upn_of(directory: MemoryDirectory) -> str | None:
    (account,) = directory.read_accounts()
    return account.attributes.get("userPrincipalName")


def test_a_rename_keeps_the_upn_by_default() -> None:
    directory = MemoryDirectory()
    run([person(1)], directory)
    run([person(1, family="Lind")], directory)
    assert upn_of(directory) == "anna.andersson@example.test"


def test_a_rename_makes_a_new_upn_when_the_connection_says_follow() -> None:
    follow = dataclasses.replace(POLICY, upn_follows_rename=True)
    directory = MemoryDirectory()
    for people in (
        [person(1), person(2, family="Lind")],
        [person(1, family="Lind"), person(2, family="Lind")],
    ):
        plan = plan_changes(people, directory.read_accounts(), {}, follow, TODAY)
        apply_changes(plan.changes, directory)
    upns = sorted(a.attributes["userPrincipalName"] or "" for a in directory.read_accounts())
    assert upns == ["anna.lind2@example.test", "anna.lind@example.test"]
    again = plan_changes(
        [person(1, family="Lind"), person(2, family="Lind")],
        directory.read_accounts(),
        {},
        follow,
        TODAY,
    )
    assert again.is_empty


def test_a_target_that_goes_down_defers_the_rest() -> None:
    directory = MemoryDirectory(fail_transient=100)
    people = [person(n, family=f"F{n}") for n in range(1, 8)]
    plan = plan_changes(people, [], {}, POLICY, TODAY)
    outcomes = apply_changes(plan.changes, directory)
    assert [o.status for o in outcomes] == [Status.FAILED] * 3 + [Status.DEFERRED] * 4


def test_a_failed_manager_create_does_not_fail_the_reports() -> None:
    boss = person(1, "Rune", "Bad")
    report = person(2, "Siv", "Good", manager_id=boss.person_id)
    directory = MemoryDirectory(reject_cns={"Rune Bad"})
    plan = plan_changes([boss, report], [], {}, POLICY, TODAY)
    outcomes = apply_changes(plan.changes, directory)
    assert [o.status for o in outcomes] == [Status.FAILED, Status.APPLIED]


# -- properties ----------------------------------------------------------------------------

NAMES = st.sampled_from(["Anna", "Åsa", "Jörgen", "Björn", "Ødegaard", "#Eve", "Li, Wei", " Bo "])
FAMILIES = st.sampled_from(["Andersson", "Öberg", "Ähl", "von Essen", "Lindqvist-Öhman", "O'Neil"])


@st.composite
def people_lists(draw: st.DrawFn) -> list[Person]:
    count = draw(st.integers(min_value=0, max_value=25))
    people = []
    for number in range(1, count + 1):
        start = TODAY + timedelta(days=draw(st.integers(-900, 30)))
        end = draw(st.one_of(st.none(), st.integers(-60, 60).map(lambda d: TODAY + timedelta(d))))
        manager = draw(st.one_of(st.none(), st.integers(1, count + 1)))
        people.append(
            person(
                number,
                draw(NAMES).strip(),
                draw(FAMILIES),
                employment=Employment(
                    "c1",
                    "Acme",
                    draw(st.sampled_from(["Ekonom", None])),
                    None,
                    start,
                    end if end is None or end >= start else None,
                ),
                manager_id=PersonId(f"p{manager}") if manager else None,
            )
        )
    return people


@settings(max_examples=60, deadline=None)
@given(people_lists())
def test_planning_is_deterministic(people: list[Person]) -> None:
    directory = MemoryDirectory()
    run(people[: len(people) // 2], directory)
    accounts = directory.read_accounts()
    first = plan_changes(people, accounts, {}, POLICY, TODAY)
    second = plan_changes(list(reversed(people)), list(reversed(accounts)), {}, POLICY, TODAY)
    assert first.fingerprint() == second.fingerprint()


@settings(max_examples=60, deadline=None)
@given(people_lists())
def test_applying_a_plan_then_replanning_leaves_only_what_needs_a_human(
    people: list[Person],
) -> None:
    directory = MemoryDirectory()
    run(people, directory)
    run(people, directory)  # a broken manager cycle is completed by the second run
    again = plan_changes(people, directory.read_accounts(), {}, POLICY, TODAY)
    assert all(isinstance(c, ManualStep) for c in again.changes), again.changes
    sams = [a.attributes["sAMAccountName"] for a in directory.accounts.values()]
    assert len(sams) == len(set(sams))
    # Accounts for everyone still employed, pre-hires from 14 days before their start.
    window = TODAY + timedelta(days=14)
    assert len(directory.accounts) == sum(
        1
        for p in people
        if (p.employment.end_date is None or p.employment.end_date >= TODAY)
        and (p.employment.start_date is None or p.employment.start_date <= window)
    )


def test_names_used_elsewhere_in_the_domain_are_avoided() -> None:
    plan = plan_changes(
        [person(1)],
        [],
        {},
        POLICY,
        TODAY,
        reserved_names=[
            ("sAMAccountName", "AAndersson"),
            ("userPrincipalName", "anna.andersson@example.test"),
        ],
    )
    (create,) = plan.changes
    assert isinstance(create, CreateAccount)
    assert create.attributes["sAMAccountName"] == "aandersson2"
    assert create.attributes["userPrincipalName"] == "anna.andersson2@example.test"


def test_an_account_owned_by_another_person_is_never_matched_by_employee_number() -> None:
    """Employee numbers repeat across companies; the person id on the account decides."""
    directory = MemoryDirectory()
    run([person(1)], directory)
    other_company = dataclasses.replace(person(1, "Bo", "Ek"), person_id=PersonId("other"))
    plan = plan_changes([person(1), other_company], directory.read_accounts(), {}, POLICY, TODAY)
    assert plan.counts() | {"create": 0} == Plan(()).counts()
    assert plan.counts()["create"] == 1


def test_a_focused_plan_keeps_only_the_chosen_person_and_asks_for_their_new_manager() -> None:
    boss = person(1, "Östen", "Ähl")
    report = person(2, "Märta", "Berg", manager_id=boss.person_id)
    plan = plan_changes([report, boss], [], {}, POLICY, TODAY)
    focused = focus_plan(plan, {report.person_id}, AD_PROFILE)
    create, manual = focused.changes
    assert isinstance(create, CreateAccount) and create.person_id == "p2"
    assert "manager" not in create.attributes
    assert isinstance(manual, ManualStep) and manual.reason == MANAGER_UNRESOLVED
    assert manual.detail["manager_name"] == "Östen Ähl"
    assert manual.detail["manager_employee_number"] == "1"
    directory = MemoryDirectory()
    apply_changes(focus_plan(plan, {boss.person_id}, AD_PROFILE).changes, directory)
    with_boss = plan_changes([report, boss], directory.read_accounts(), {}, POLICY, TODAY)
    (kept,) = focus_plan(with_boss, {report.person_id}, AD_PROFILE).changes
    assert isinstance(kept, CreateAccount) and kept.attributes["manager"]


def test_three_people_with_one_name_and_one_employee_number_keep_their_names() -> None:
    """Employee numbers repeat across companies: a third CN gets a numbered suffix, and keeps it."""
    people = [dataclasses.replace(person(7), person_id=PersonId(f"c{n}")) for n in range(3)]
    directory = MemoryDirectory()
    plan = run(people, directory)
    cns = sorted(c.ref.split(",")[0] for c in plan.changes if isinstance(c, CreateAccount))
    assert cns == [r"CN=Anna Andersson", r"CN=Anna Andersson (7)", r"CN=Anna Andersson (7-2)"]
    assert run(people, directory).is_empty


def test_naming_rules_give_login_names_unique_in_the_directory_and_within_the_run() -> None:
    sam_rule = parse_rule(
        "sam",
        'SelectUniqueValue(Join(".", Left([given_name], 3), Left([family_name], 3)), '
        'Join(".", Left([given_name], 4), Left([family_name], 4)))',
    )
    upn_rule = parse_rule("upn", 'Join("_", [given_name], [family_name])')
    policy = dataclasses.replace(POLICY, sam_rule=sam_rule, upn_rule=upn_rule)
    directory = MemoryDirectory()
    people = [person(1), person(2), person(3), person(4, "Åsa", "Öberg")]
    plan = plan_changes(people, directory.read_accounts(), {}, policy, TODAY)
    creates = {c.person_id: c.attributes for c in plan.changes if isinstance(c, CreateAccount)}
    assert [creates[PersonId(f"p{n}")]["sAMAccountName"] for n in (1, 2, 3, 4)] == [
        "ann.and",  # the first candidate
        "anna.ande",  # the first is taken within the run: the second candidate
        "ann.and2",  # both candidates taken: the first, numbered
        "asa.obe",  # folded to login characters
    ]
    assert [creates[PersonId(f"p{n}")]["userPrincipalName"] for n in (1, 2, 4)] == [
        "anna_andersson@example.test",
        "anna_andersson2@example.test",
        "asa_oberg@example.test",
    ]


def test_a_naming_rule_that_gives_nothing_falls_back_to_the_default_names() -> None:
    policy = dataclasses.replace(POLICY, sam_rule=parse_rule("sam", "[org.Nothing]"))
    plan = plan_changes([person(1)], [], {}, policy, TODAY)
    (create,) = plan.changes
    assert isinstance(create, CreateAccount)
    assert create.attributes["sAMAccountName"] == "aandersson"
