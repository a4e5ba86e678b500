"""Groups from organisation levels: the tree, stable ids, names, memberships, retirement, and
their properties (order does not matter; applying a plan and planning again plans nothing)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hrsync.connectors.active_directory.dn import normalise_dn
from hrsync.connectors.active_directory.group_naming import DirectoryGroupNaming
from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateAccount,
    CreateGroup,
    GroupChange,
    RemoveMembers,
    RetireGroup,
    UpdateGroup,
)
from hrsync.domain.groups import EMPTY_SINCE, HRSYNC_ID, Group
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person, person_from_fields
from hrsync.domain.plan import Plan, Status
from hrsync.engine.accounts_after import accounts_after
from hrsync.engine.apply import apply_changes
from hrsync.engine.group_focus import focus_group_changes
from hrsync.engine.group_tree import group_tree, lowest_groups
from hrsync.engine.groups import GroupPolicy, NamesInUse, plan_groups
from hrsync.engine.personnel import ChangeKind, classify_change
from hrsync.engine.plan import plan_changes
from tests.unit.memory_target import MemoryDirectory

TODAY = date(2026, 11, 28)
USERS = "OU=People,DC=example,DC=test"
GROUPS_OU = "OU=Org,DC=example,DC=test"
POLICY = DirectoryPolicy(users_ou=USERS, upn_suffix="example.test")
LEVELS = ("Office", "Department", "Team")
GROUPS = GroupPolicy(levels=LEVELS, naming=DirectoryGroupNaming(GROUPS_OU), grace_days=7)


def person(number: int, *units: str, ids: tuple[str, ...] = (), **changes: object) -> Person:
    """A person placed at `units` (Office, Department, Team; "" for an empty level), with the
    source's ids of those units when given."""
    base = Person(
        person_id=PersonId(f"p{number}"),
        employee_number=EmployeeNumber(str(number)),
        given_name="Anna",
        family_name=f"Person{number}",
        employment=Employment("c1", "Acme", start_date=date(2020, 1, 1)),
        organisation=tuple((level, unit) for level, unit in zip(LEVELS, units, strict=False)),
        organisation_ids=tuple(
            (level, unit_id) for level, unit_id in zip(LEVELS, ids, strict=False) if unit_id
        ),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def sync(
    people: list[Person],
    directory: MemoryDirectory,
    today: date = TODAY,
    policy: GroupPolicy = GROUPS,
) -> Plan:
    """One run: plan accounts and groups, apply everything; every change must succeed."""
    plan = plan_all(people, directory, today, policy)
    outcomes = apply_changes(plan.changes, directory)
    assert all(o.status in (Status.APPLIED, Status.DEFERRED) for o in outcomes), outcomes
    return plan


def plan_all(
    people: list[Person], directory: MemoryDirectory, today: date, policy: GroupPolicy = GROUPS
) -> Plan:
    accounts = directory.read_accounts()
    account_plan = plan_changes(people, accounts, {}, POLICY, today)
    after = accounts_after(
        accounts, {}, account_plan.changes, POLICY.person_id_attribute, AD_PROFILE
    )
    groups = plan_groups(people, directory.read_groups(), after, policy, today=today)
    return Plan((*account_plan.changes, *groups))


def group_changes(plan: Plan) -> list[Change]:
    return [change for change in plan.changes if isinstance(change, GroupChange)]


def by_cn(directory: MemoryDirectory) -> dict[str, Group]:
    return {group.name: group for group in directory.read_groups()}


def member_cns(directory: MemoryDirectory, group: Group) -> set[str]:
    names = {normalise_dn(a.ref): a.attributes.get("cn") for a in directory.read_accounts()}
    names |= {normalise_dn(g.ref): g.name for g in directory.read_groups()}
    return {names[normalise_dn(member)] for member in group.members}


# --- the tree ---------------------------------------------------------------------------------


def test_the_same_name_under_two_offices_makes_two_groups_each_person_in_their_lowest() -> None:
    people = [
        person(1, "Stockholm", "Finance", "Payable"),
        person(2, "Stockholm", "Finance"),
        person(3, "Göteborg", "Finance", "Payable"),
        person(4, "Göteborg"),
    ]
    tree = group_tree(people, LEVELS)
    assert sorted(node.path for node in tree.values()) == [
        ("Göteborg",),
        ("Göteborg", "Finance"),
        ("Göteborg", "Finance", "Payable"),
        ("Stockholm",),
        ("Stockholm", "Finance"),
        ("Stockholm", "Finance", "Payable"),
    ]
    lowest = {pid: tree[gid].path for pid, gid in lowest_groups(tree).items()}
    assert lowest == {
        "p1": ("Stockholm", "Finance", "Payable"),
        "p2": ("Stockholm", "Finance"),
        "p3": ("Göteborg", "Finance", "Payable"),
        "p4": ("Göteborg",),
    }
    for node in tree.values():
        if node.parent_id is not None:
            assert tree[node.parent_id].path == node.path[:-1]


def test_a_gap_ends_the_path_and_spacing_or_case_make_no_new_unit() -> None:
    people = [
        person(1, "", "Finance", "Payable"),
        person(2, "Umeå", "", "Payable"),
        person(3, " Umeå ", "IT  Support"),
        person(4, "umeå", "IT Support"),
    ]
    tree = group_tree(people, LEVELS)
    lowest = {pid: tree[gid].path for pid, gid in lowest_groups(tree).items()}
    assert lowest == {
        "p2": ("Umeå",),
        "p3": ("Umeå", "IT Support"),
        "p4": ("Umeå", "IT Support"),
    }


def test_source_ids_identify_units_and_a_person_without_one_joins_the_unit_of_that_name() -> None:
    with_ids = [
        person(1, "Stockholm", "Finance", ids=("o-1", "d-7")),
        person(2, "Stockholm", "Finance", ids=("o-1", "d-8")),  # another unit, same name
        person(3, "Stockholm", "Ekonomi", ids=("o-1", "d-9")),
        person(4, "Stockholm", "Ekonomi"),  # imported before the source gave ids
    ]
    tree = group_tree(with_ids, LEVELS)
    lowest = lowest_groups(tree)
    assert lowest[PersonId("p1")] != lowest[PersonId("p2")]
    assert lowest[PersonId("p3")] == lowest[PersonId("p4")]


def test_renaming_a_unit_keeps_its_id_and_those_below_it() -> None:
    before = [person(1, "Stockholm", "Finance", "Payable", ids=("o-1", "d-7", "t-3"))]
    after = [person(1, "Stockholm", "Ekonomi", "Payable", ids=("o-1", "d-7", "t-3"))]
    old, new = group_tree(before, LEVELS), group_tree(after, LEVELS)
    assert set(old) == set(new)
    assert {node.path for node in new.values()} == {
        ("Stockholm",),
        ("Stockholm", "Ekonomi"),
        ("Stockholm", "Ekonomi", "Payable"),
    }


def test_a_unit_half_renamed_takes_the_name_most_people_give_it() -> None:
    ids = ("o-1", "d-7")
    people = [
        person(1, "Stockholm", "Finance", ids=ids),
        person(2, "Stockholm", "Ekonomi", ids=ids),
        person(3, "Stockholm", "Ekonomi", ids=ids),
    ]
    (department,) = [n for n in group_tree(people, LEVELS).values() if len(n.path) == 2]
    assert department.name == "Ekonomi"
    assert department.members == {"p1", "p2", "p3"}


units = st.sampled_from(["", "Stockholm", "Göteborg", "Finance", "IT", "Payable", "Lön"])
persons = st.lists(st.tuples(units, units, units), max_size=25).map(
    lambda rows: [person(number, *row) for number, row in enumerate(rows)]
)


@given(persons, st.randoms(use_true_random=False))
def test_the_tree_does_not_depend_on_the_order_of_people(
    people: list[Person], shuffler: object
) -> None:
    shuffled = list(people)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]
    assert group_tree(people, LEVELS) == group_tree(shuffled, LEVELS)


@given(persons)
def test_every_person_with_a_top_level_is_in_exactly_one_lowest_group(
    people: list[Person],
) -> None:
    tree = group_tree(people, LEVELS)
    placed = [pid for node in tree.values() for pid in node.members]
    assert len(placed) == len(set(placed))
    assert set(placed) == {p.person_id for p in people if p.organisation_value("Office")}


# --- planning against a directory ---------------------------------------------------------------


def test_groups_are_created_nested_and_filled_with_the_new_accounts() -> None:
    directory = MemoryDirectory()
    people = [
        person(1, "Stockholm", "Finance", "Payable"),
        person(2, "Stockholm", "Finance"),
        person(3, "Göteborg", "Finance", "Payable"),
    ]
    plan = sync(people, directory)
    kinds = [type(change).__name__ for change in group_changes(plan)]
    assert kinds == ["CreateGroup"] * 6 + ["AddMembers"] * 6
    first_group = next(i for i, c in enumerate(plan.changes) if isinstance(c, CreateGroup))
    assert all(isinstance(c, CreateAccount) for c in plan.changes[:first_group])
    groups = by_cn(directory)
    assert set(groups) == {
        "Stockholm",
        "Stockholm - Finance",
        "Stockholm - Finance - Payable",
        "Göteborg",
        "Göteborg - Finance",
        "Göteborg - Finance - Payable",
    }
    assert member_cns(directory, groups["Stockholm"]) == {"Stockholm - Finance"}
    assert member_cns(directory, groups["Stockholm - Finance"]) == {
        "Stockholm - Finance - Payable",
        "Anna Person2",
    }
    assert member_cns(directory, groups["Göteborg - Finance - Payable"]) == {"Anna Person3"}
    payable = groups["Stockholm - Finance - Payable"]
    assert payable.attributes["displayName"] == "Payable"
    assert payable.attributes["description"] == (
        "Stockholm > Finance > Payable (Team); kept by hrsync from HR"
    )
    sams = {g.attributes["sAMAccountName"] for g in groups.values()}
    assert "stockholm-finance" in sams
    assert all(len(sam or "") <= 20 for sam in sams)
    assert group_changes(plan_all(people, directory, TODAY)) == []


def test_a_renamed_department_renames_its_groups_and_keeps_every_membership() -> None:
    ids = ("o-1", "d-7", "t-3")
    directory = MemoryDirectory()
    people = [
        person(1, "Stockholm", "Finance", "Payable", ids=ids),
        person(2, "Stockholm", "Finance", ids=ids[:2]),
    ]
    sync(people, directory)
    ids_before = {g.group_id for g in directory.read_groups()}
    members_before = {g.group_id: member_cns(directory, g) for g in directory.read_groups()}
    renamed = [
        dataclasses.replace(
            p,
            organisation=tuple(
                (lvl, "Ekonomi" if v == "Finance" else v) for lvl, v in p.organisation
            ),
        )
        for p in people
    ]
    plan = sync(renamed, directory)
    changes = group_changes(plan)
    assert all(isinstance(change, UpdateGroup) for change in changes)
    assert {c.new_name for c in changes if isinstance(c, UpdateGroup)} == {
        "Stockholm - Ekonomi",
        "Stockholm - Ekonomi - Payable",
    }
    assert {g.group_id for g in directory.read_groups()} == ids_before
    members_after = {g.group_id: member_cns(directory, g) for g in directory.read_groups()}
    renamed_cns = {
        "Stockholm - Finance": "Stockholm - Ekonomi",
        "Stockholm - Finance - Payable": "Stockholm - Ekonomi - Payable",
    }
    assert members_after == {
        gid: {renamed_cns.get(cn, cn) for cn in cns} for gid, cns in members_before.items()
    }
    assert by_cn(directory)["Stockholm - Ekonomi"].attributes["displayName"] == "Ekonomi"
    assert group_changes(plan_all(renamed, directory, TODAY)) == []


def test_without_source_ids_a_rename_is_a_new_unit_and_the_old_group_is_retired() -> None:
    directory = MemoryDirectory()
    sync([person(1, "Stockholm", "Finance")], directory)
    plan = sync([person(1, "Stockholm", "Ekonomi")], directory)
    creates = [c for c in group_changes(plan) if isinstance(c, CreateGroup)]
    marks = [c for c in group_changes(plan) if isinstance(c, UpdateGroup)]
    assert [c.ref for c in creates] == [f"CN=Stockholm - Ekonomi,{GROUPS_OU}"]
    assert [c.after[EMPTY_SINCE] for c in marks] == [TODAY.isoformat()]


def test_a_group_made_from_names_is_adopted_when_its_unit_gets_a_source_id() -> None:
    directory = MemoryDirectory()
    sync([person(1, "Stockholm", "Finance")], directory)
    old_ids = {g.name: g.group_id for g in directory.read_groups()}
    plan = sync([person(1, "Stockholm", "Finance", ids=("o-1", "d-7"))], directory)
    changes = group_changes(plan)
    assert all(isinstance(c, UpdateGroup) and c.new_name is None for c in changes)
    assert {c.before[HRSYNC_ID] for c in changes if isinstance(c, UpdateGroup)} == set(
        old_ids.values()
    )
    assert len(directory.read_groups()) == 2
    assert {g.group_id for g in directory.read_groups()}.isdisjoint(old_ids.values())
    assert (
        group_changes(
            plan_all([person(1, "Stockholm", "Finance", ids=("o-1", "d-7"))], directory, TODAY)
        )
        == []
    )


def test_an_emptied_team_is_marked_then_retired_after_the_grace_period() -> None:
    directory = MemoryDirectory()
    sync([person(1, "Stockholm", "Finance", "Payable"), person(2, "Stockholm", "IT")], directory)
    moved = [person(1, "Stockholm", "Finance"), person(2, "Stockholm", "IT")]
    plan = sync(moved, directory)
    payable = by_cn(directory)["Stockholm - Finance - Payable"]
    assert payable.empty_since == TODAY
    assert payable.members == ()
    assert "Stockholm - Finance - Payable" in member_cns(
        directory, by_cn(directory)["Stockholm - Finance"]
    )
    assert {type(c).__name__ for c in group_changes(plan)} == {
        "UpdateGroup",
        "AddMembers",
        "RemoveMembers",
    }
    last_day = TODAY + timedelta(days=GROUPS.grace_days - 1)
    assert group_changes(plan_all(moved, directory, last_day)) == []
    retire_day = TODAY + timedelta(days=GROUPS.grace_days)
    plan = sync(moved, directory, retire_day)
    assert [type(c) for c in group_changes(plan)] == [RetireGroup]
    assert "Stockholm - Finance - Payable" not in by_cn(directory)
    assert member_cns(directory, by_cn(directory)["Stockholm - Finance"]) == {"Anna Person1"}


def test_a_unit_back_within_the_grace_period_keeps_its_group_and_clears_the_mark() -> None:
    directory = MemoryDirectory()
    placed = [person(1, "Stockholm", "Finance", "Payable"), person(2, "Stockholm", "IT")]
    sync(placed, directory)
    sync([person(1, "Stockholm", "Finance"), person(2, "Stockholm", "IT")], directory)
    plan = sync(placed, directory, TODAY + timedelta(days=3))
    (update,) = [c for c in group_changes(plan) if isinstance(c, UpdateGroup)]
    assert update.after[EMPTY_SINCE] is None
    assert by_cn(directory)["Stockholm - Finance - Payable"].empty_since is None
    assert member_cns(directory, by_cn(directory)["Stockholm - Finance - Payable"]) == {
        "Anna Person1"
    }


def test_without_a_grace_period_an_empty_group_is_retired_at_once() -> None:
    directory = MemoryDirectory()
    policy = dataclasses.replace(GROUPS, grace_days=0)
    sync([person(1, "Stockholm", "IT"), person(2, "Umeå")], directory, policy=policy)
    plan = sync([person(1, "Stockholm", "IT")], directory, policy=policy)
    assert [type(c) for c in group_changes(plan)] == [RetireGroup]


def test_disabled_accounts_leave_their_groups_and_pre_hires_join_on_the_start_date() -> None:
    directory = MemoryDirectory()
    staff = person(1, "Stockholm", "IT")
    sync([staff], directory)
    leaver = dataclasses.replace(
        staff, employment=dataclasses.replace(staff.employment, end_date=TODAY - timedelta(1))
    )
    plan = sync([leaver], directory)
    removes = [c for c in group_changes(plan) if isinstance(c, RemoveMembers)]
    assert [len(c.members) for c in removes] == [1]
    start = TODAY + timedelta(days=3)
    prehire = person(2, "Stockholm", "IT", employment=Employment("c1", "Acme", start_date=start))
    directory = MemoryDirectory()
    plan = sync([prehire], directory)
    assert not [c for c in group_changes(plan) if isinstance(c, AddMembers)]
    plan = sync([prehire], directory, start)
    assert [len(c.members) for c in group_changes(plan) if isinstance(c, AddMembers)] == [1, 1]


def test_members_added_by_hand_and_groups_without_hrsync_id_are_left_alone() -> None:
    directory = MemoryDirectory()
    sync([person(1, "Stockholm", "IT")], directory)
    key, it = next((k, g) for k, g in directory.groups.items() if g.name == "Stockholm - IT")
    directory.groups[key] = dataclasses.replace(
        it, members=(*it.members, "CN=Service,OU=Robots,DC=example,DC=test")
    )
    assert group_changes(plan_all([person(1, "Stockholm", "IT")], directory, TODAY)) == []


def test_names_avoid_other_objects_and_login_names_and_fit_their_limits() -> None:
    long_name = "Avdelningen för mycket långa och utförliga organisationsnamn"
    people = [person(1, "Stockholm", long_name, "Team Ett"), person(2, "Stockholm", "IT")]
    accounts_plan = plan_changes(people, [], {}, POLICY, TODAY)
    after = accounts_after([], {}, accounts_plan.changes, POLICY.person_id_attribute, AD_PROFILE)
    names = NamesInUse(names=frozenset({"stockholm - it"}), logins=frozenset({"stockholm"}))
    changes = plan_groups(people, [], after, GROUPS, today=TODAY, names=names)
    creates = {c.attributes["displayName"]: c for c in changes if isinstance(c, CreateGroup)}
    it = creates["IT"]
    assert it.ref.startswith(f"CN=Stockholm - IT ({it.group_id[:6]}),")
    assert (
        creates["Stockholm"].attributes["sAMAccountName"]
        == f"stockholm-{creates['Stockholm'].group_id[:6]}"
    )
    team = creates["Team Ett"]
    cn = team.ref.split(",", 1)[0][3:]
    assert len(cn) <= 64 and cn.endswith("… - Team Ett")
    assert all(len(c.attributes["sAMAccountName"] or "") <= 20 for c in creates.values())
    assert len({c.attributes["sAMAccountName"] for c in creates.values()}) == len(creates)


def test_a_run_for_a_few_persons_touches_only_their_memberships_and_groups() -> None:
    directory = MemoryDirectory()
    sync([person(1, "Stockholm", "IT")], directory)
    people = [person(1, "Umeå", "IT"), person(2, "Göteborg", "Finance")]
    accounts = directory.read_accounts()
    account_plan = plan_changes(people, accounts, {}, POLICY, TODAY)
    after = accounts_after(
        accounts, {}, account_plan.changes, POLICY.person_id_attribute, AD_PROFILE
    )
    changes = plan_groups(people, directory.read_groups(), after, GROUPS, today=TODAY)
    focused = focus_group_changes(changes, {PersonId("p2")}, after, AD_PROFILE)
    created = {c.attributes["displayName"] for c in focused if isinstance(c, CreateGroup)}
    assert created == {"Göteborg", "Finance"}
    added = {m for c in focused if isinstance(c, AddMembers) for m in c.members}
    assert added == {after.refs[PersonId("p2")], f"CN=Göteborg - Finance,{GROUPS_OU}"}
    assert not [c for c in focused if isinstance(c, RemoveMembers | RetireGroup)]
    assert not [c for c in focused if isinstance(c, UpdateGroup) and c.after.get(EMPTY_SINCE)]


def test_accounts_after_follows_moves_renames_deletes_and_the_enabled_flag() -> None:
    directory = MemoryDirectory()
    sync([person(1, "Stockholm"), person(2, "Stockholm")], directory)
    accounts = directory.read_accounts()
    first = next(a for a in accounts if a.attributes["employeeNumber"] == "p1")
    links = {PersonId("p1"): first.account_id}
    people = [person(1, "Stockholm", given_name="Bo"), person(3, "Umeå")]
    plan = plan_changes(people, accounts, links, POLICY, TODAY)
    after = accounts_after(accounts, links, plan.changes, POLICY.person_id_attribute, AD_PROFILE)
    assert after.refs[PersonId("p1")] == f"CN=Bo Person1,{USERS}"
    assert after.renamed[normalise_dn(first.ref)] == f"CN=Bo Person1,{USERS}"
    assert PersonId("p3") in after.enabled
    assert after.refs[PersonId("p2")] == f"CN=Anna Person2,{USERS}"  # not in HR: left alone


def test_organisation_ids_survive_the_store() -> None:
    placed = person(1, "Stockholm", "Finance", ids=("o-1", "d-7"))
    again = person_from_fields(placed.person_id, placed.fields())
    assert again.organisation_ids == placed.organisation_ids
    assert again.organisation_id("department") == "d-7"


# --- properties --------------------------------------------------------------------------------

org_rows = st.lists(
    st.tuples(units, units, units, st.sampled_from(["", "x", "y"])), min_size=1, max_size=12
)


def _people_of(rows: list[tuple[str, str, str, str]]) -> list[Person]:
    return [
        person(number, office, department, team, ids=("", f"d-{suffix}" if suffix else ""))
        for number, (office, department, team, suffix) in enumerate(rows)
    ]


@settings(max_examples=40, deadline=None)
@given(org_rows, org_rows)
def test_applying_a_plan_and_planning_again_plans_no_group_change(
    first: list[tuple[str, str, str, str]], second: list[tuple[str, str, str, str]]
) -> None:
    directory = MemoryDirectory()
    sync(_people_of(first), directory)
    people = _people_of(second)
    sync(people, directory)
    assert group_changes(plan_all(people, directory, TODAY)) == []
    placed = {p.person_id for p in people if p.organisation_value("Office")}
    in_groups = [
        member
        for group in directory.read_groups()
        for member in group.members
        if normalise_dn(member) in {normalise_dn(a.ref) for a in directory.read_accounts()}
    ]
    assert len(in_groups) == len(placed)


@settings(max_examples=30, deadline=None)
@given(org_rows, st.randoms(use_true_random=False))
def test_planning_twice_or_in_another_order_gives_the_same_group_changes(
    rows: list[tuple[str, str, str, str]], shuffler: object
) -> None:
    directory = MemoryDirectory()
    people = _people_of(rows)
    sync(people[: len(people) // 2], directory)
    shuffled = list(people)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]
    once = group_changes(plan_all(people, directory, TODAY))
    assert once == group_changes(plan_all(shuffled, directory, TODAY))


# --- the units' source ids in personnel changes ------------------------------------------------


def test_ids_alone_arriving_are_no_personnel_change_and_a_renamed_unit_is_no_move() -> None:
    plain = person(1, "Stockholm", "Finance")
    with_ids = person(1, "Stockholm", "Finance", ids=("o-1", "d-7"))
    assert classify_change(plain, with_ids, TODAY) is None
    renamed = person(1, "Stockholm", "Ekonomi", ids=("o-1", "d-7"))
    change = classify_change(with_ids, renamed, TODAY)
    assert change is not None and change.kind is ChangeKind.UPDATE
    moved = person(1, "Stockholm", "IT", ids=("o-1", "d-8"))
    change = classify_change(with_ids, moved, TODAY)
    assert change is not None and change.kind is ChangeKind.MOVER
    change = classify_change(plain, person(1, "Stockholm", "IT"), TODAY)
    assert change is not None and change.kind is ChangeKind.MOVER


def test_a_new_group_avoids_the_login_names_of_accounts_made_in_the_same_plan() -> None:
    people = [person(1, "IT", given_name="Ida", family_name="T")]
    account_plan = plan_changes(people, [], {}, POLICY, TODAY)
    (create,) = [c for c in account_plan.changes if isinstance(c, CreateAccount)]
    assert create.attributes["sAMAccountName"] == "it"
    after = accounts_after([], {}, account_plan.changes, POLICY.person_id_attribute, AD_PROFILE)
    (group,) = [
        c for c in plan_groups(people, [], after, GROUPS, today=TODAY) if isinstance(c, CreateGroup)
    ]
    assert group.attributes["sAMAccountName"] == f"it-{group.group_id[:6]}"
