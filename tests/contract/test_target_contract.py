"""One contract for every target: the same scenarios on the in-memory target, on Active
Directory (Samba) and on SCIM (scim2-server and SCIMMY). A target passes when the engine's plan,
once applied, leaves nothing to do, whatever happened in HR, and what the target holds is what
HR says. Where a target differs (AD renames, SCIM updates its userName) the scenario says so by
the profile's capabilities, never by the target's name."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from hrsync.domain.changes import (
    CreateAccount,
    DisableAccount,
    EnableAccount,
    ManualStep,
    RenameAccount,
    SetManager,
    UpdateAttributes,
    kind_of,
)
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Status
from hrsync.engine.lifecycle_dates import LifecyclePolicy
from hrsync.engine.plan import MANAGER_UNRESOLVED, NAME_UNAVAILABLE
from tests.contract.rigs import Rig

TODAY = date(2026, 12, 7)


def person(number: int, given: str, family: str, **changes: object) -> Person:
    base = Person(
        person_id=PersonId(f"c{number:04d}"),
        employee_number=EmployeeNumber(str(1000 + number)),
        given_name=given,
        family_name=family,
        employment=Employment("c1", "Acme Sverige AB", "Ekonom", "Tillsvidare", date(2020, 1, 1)),
        email=f"{given}.{family}.{number}@example.test".lower().replace(" ", ""),
        organisation=(("Office", "Stockholm"), ("Department", "Finance")),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def staff() -> list[Person]:
    boss = person(1, "Karin", "Lund", organisation=(("Office", "Stockholm"),))
    return [
        boss,
        person(2, "Anna", "Berg", manager_id=boss.person_id),
        person(3, "Åsa", "Öberg", manager_id=boss.person_id),
        person(4, "Erik", "Berg", organisation=(("Office", "Göteborg"), ("Department", "Finance"))),
        person(5, "Bo", "Ek", manager_id=PersonId("c0002")),
    ]


def assert_settled(rig: Rig, people: list[Person]) -> None:
    plan = rig.plan(people, TODAY)
    assert plan.is_empty, [f"{kind_of(c)}: {c}" for c in plan.changes]


def test_first_load_then_nothing_to_do(rig: Rig) -> None:
    people = staff()
    plan, outcomes = rig.sync(people, TODAY)
    assert plan.counts()["create"] == 5
    assert all(o.status is Status.APPLIED for o in outcomes)
    assert_settled(rig, people)
    anna = rig.find("c0002")
    assert rig.value(anna, "family") == "Berg"
    assert rig.value(anna, "email") == "anna.berg.2@example.test"
    manager = anna.attributes.get(rig.policy.profile.manager_attribute)
    assert rig.policy.profile.ref_key(manager or "") == rig.policy.profile.ref_key(
        rig.find("c0001").ref
    )


def test_two_finance_departments_are_two_groups_with_their_own_members(rig: Rig) -> None:
    people = staff()
    rig.sync(people, TODAY)
    finance = [g for g in rig.read_groups()[0] if g.attributes.get("displayName") == "Finance"]
    assert len(finance) == 2
    members = sorted(sorted(rig.members_of(group)) for group in finance)
    assert members == [["c0002", "c0003", "c0005"], ["c0004"]]


def test_edits_reach_the_target_and_settle(rig: Rig) -> None:
    people = staff()
    rig.sync(people, TODAY)
    people[1] = dataclasses.replace(
        people[1],
        family_name="Lindqvist",
        employment=dataclasses.replace(people[1].employment, title="Controller"),
    )
    plan, _ = rig.sync(people, TODAY)
    kinds = {kind_of(c) for c in plan.changes}
    assert "update" in kinds
    assert ("rename" in kinds) == rig.policy.profile.capabilities.rename
    assert_settled(rig, people)
    anna = rig.find("c0002")
    assert (rig.value(anna, "family"), rig.value(anna, "title")) == ("Lindqvist", "Controller")


def test_a_leaver_is_disabled_and_a_rehire_enabled(rig: Rig) -> None:
    people = staff()
    rig.sync(people, TODAY)
    gone = dataclasses.replace(people[2].employment, end_date=TODAY - timedelta(days=3))
    left = [*people[:2], dataclasses.replace(people[2], employment=gone), *people[3:]]
    plan, _ = rig.sync(left, TODAY)
    assert [type(c) for c in plan.changes if not isinstance(c, UpdateAttributes)].count(
        DisableAccount
    ) == 1
    assert not rig.find("c0003").is_enabled
    assert_settled(rig, left)
    plan, _ = rig.sync(people, TODAY)
    assert any(isinstance(c, EnableAccount) for c in plan.changes)
    assert rig.find("c0003").is_enabled
    assert_settled(rig, people)


def test_a_leaver_is_deleted_after_the_retention_and_stays_gone(rig: Rig) -> None:
    """`delete_after_days = 30`: disabled after the last day, deleted 30 days on (from the
    target and from the groups), and nothing more to do once they are gone."""
    rig.lifecycle = LifecyclePolicy(delete_after_days=30)
    people = staff()
    rig.sync(people, TODAY)
    gone = dataclasses.replace(people[3].employment, end_date=TODAY - timedelta(days=3))
    left = [*people[:3], dataclasses.replace(people[3], employment=gone), people[4]]
    rig.sync(left, TODAY)
    assert not rig.find("c0004").is_enabled

    later = TODAY + timedelta(days=28)
    plan, _ = rig.sync(left, later)
    assert [kind_of(c) for c in plan.changes].count("delete") == 1
    assert all(a.attributes.get(rig.policy.owner_attribute) != "c0004" for a in rig.accounts())
    assert rig.plan(left, later).is_empty


def test_a_manager_arriving_late_is_set_once_they_have_an_account(rig: Rig) -> None:
    report = person(7, "Nils", "Holm", manager_id=PersonId("c0008"))
    boss = person(8, "Maja", "Sund")
    plan, _ = rig.sync([report], TODAY)
    assert any(isinstance(c, ManualStep) and c.reason == MANAGER_UNRESOLVED for c in plan.changes)
    plan, _ = rig.sync([report, boss], TODAY)
    assert any(isinstance(c, SetManager) for c in plan.changes)
    assert_settled(rig, [report, boss])


def test_tricky_names_are_kept_as_written(rig: Rig) -> None:
    people = [
        # The names are the trick; an e-mail with `"` and `;` in it is no address (HR's import
        # would have dropped it), and the CSV file's Email rule would rightly refuse it.
        person(11, "Anna, Boss", 'O"Neil+<x>;=#', email="anna.oneil.11@example.test"),
        person(12, "Zoë", "ÅÄÖ-Ødegård"),
        person(13, "*)(uid=*", "\\back slash"),
        person(14, "Anna", "B" * 70),
    ]
    rig.sync(people, TODAY)
    assert_settled(rig, people)
    assert rig.value(rig.find("c0012"), "family") == "ÅÄÖ-Ødegård"


def test_an_apply_killed_half_way_converges_on_the_next_run(rig: Rig) -> None:
    people = staff()
    plan = rig.plan(people, TODAY)
    rig.apply(plan, limit=len(plan.changes) // 2)
    rig.sync(people, TODAY)
    assert_settled(rig, people)
    assert len(rig.own_accounts()) == 5


def test_an_account_made_by_hand_is_linked_not_duplicated(rig: Rig) -> None:
    anna = person(21, "Hanna", "Hand")
    assert anna.email is not None
    rig.make_by_hand("Hanna", "Hand", anna.email)
    plan, _ = rig.sync([anna], TODAY)
    assert not any(isinstance(c, CreateAccount) for c in plan.changes)
    assert len(rig.own_accounts()) == 1
    assert_settled(rig, [anna])


def test_a_renamed_department_keeps_its_group_and_a_mover_changes_group(rig: Rig) -> None:
    people = staff()
    rig.sync(people, TODAY)
    before = {g.group_id for g in rig.read_groups()[0]}

    def ids_of(p: Person) -> tuple[tuple[str, str], ...]:
        units = dict(p.organisation)
        if units.get("Office") != "Stockholm":
            return ()
        return (("Office", "o-sthlm"), ("Department", "d-fin"))[: len(units)]

    with_ids = [dataclasses.replace(p, organisation_ids=ids_of(p)) for p in people]
    rig.sync(with_ids, TODAY)
    renamed = [
        dataclasses.replace(p, organisation=(("Office", "Stockholm"), ("Department", "Ekonomi")))
        if dict(p.organisation).get("Department") == "Finance"
        and dict(p.organisation).get("Office") == "Stockholm"
        else p
        for p in with_ids
    ]
    rig.sync(renamed, TODAY)
    names = rig.group_names()
    assert "Ekonomi" in names
    assert rig.members_of(names["Ekonomi"]) == {"c0002", "c0003", "c0005"}
    assert len({g.group_id for g in rig.read_groups()[0]} - before) <= 2
    assert_settled(rig, renamed)


def test_a_new_account_without_its_unique_name_is_a_manual_step(rig: Rig) -> None:
    """SCIM makes userName from the e-mail, and Winningtemp's file needs its Email: a person
    whose e-mail HR gave unusable (dropped on import with a warning) cannot get an account
    there, and the manual step says why; AD names accounts from the person's names and needs
    no e-mail. Which attribute needs it is read from the profile: required, and mapped from
    [email]."""
    warning = "emailWork left out: email 'utan@' is not a valid address"
    nobody = person(31, "Utan", "Epost", email=None, warnings=(warning,))
    plan, _ = rig.sync([nobody], TODAY)
    profile = rig.policy.profile
    from_mail = [
        spec.name
        for spec in profile.attributes
        if spec.is_required and profile.default_mapping.get(spec.name) == "[email]"
    ]
    needs_mail = bool(from_mail)
    manual = [c for c in plan.changes if isinstance(c, ManualStep)]
    assert bool(manual and manual[0].reason == NAME_UNAVAILABLE) == needs_mail
    if needs_mail:
        assert warning in manual[0].detail[from_mail[0]]
    assert (len(rig.own_accounts()) == 0) == needs_mail
    assert not any(isinstance(c, RenameAccount) for c in plan.changes)
