"""The safety gate (thresholds per kind, per wiped attribute and for groups, the shrink guard)
and the recheck of an approved plan against accounts that moved on. Pure: no directory, no
database."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hrsync.connectors.active_directory.dn import normalise_dn
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.domain.account import Account
from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateAccount,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    ManualStep,
    MoveAccount,
    RemoveMembers,
    RenameAccount,
    RetireGroup,
    SetManager,
    UpdateAttributes,
)
from hrsync.domain.ids import AccountId, EmployeeNumber, GroupId, PersonId
from hrsync.domain.plan import Plan, Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.plan import plan_changes
from hrsync.engine.recheck import recheck_plan, resulting_ref
from hrsync.engine.safety import (
    SafetyPolicy,
    ShrinkGuard,
    Threshold,
    count_removed_members,
    count_wipes,
    judge_import,
    judge_plan,
)
from tests.unit.memory_target import MemoryDirectory
from tests.unit.test_engine_plan import POLICY, TODAY, ended, people_lists

OU = "OU=People,DC=example,DC=test"


def dn(n: int, ou: str = OU) -> str:
    return f"CN=P{n},{ou}"


def guarded(kind: str, n: int) -> Change:
    """One change of a guarded kind for person n; "wipe" empties the person's mail; the group
    kinds retire group n, or take person n out of a group."""
    pid, aid, gid = PersonId(f"p{n}"), AccountId(f"a{n}"), GroupId(f"g{n}")
    match kind:
        case "disable":
            return DisableAccount(pid, aid, dn(n), "ended")
        case "delete":
            return DeleteAccount(pid, aid, dn(n), "retention passed")
        case "move":
            return MoveAccount(pid, aid, dn(n), "OU=Sales,DC=example,DC=test", "placement")
        case "rename":
            return RenameAccount(pid, aid, dn(n), f"Q{n}", "name changed")
        case "wipe":
            return UpdateAttributes(pid, aid, dn(n), {"mail": f"p{n}@x"}, {"mail": None}, "HR")
        case "retire_group":
            return RetireGroup(gid, f"CN=G{n},OU=Groups", "empty for 30 days")
        case "remove_members":
            return RemoveMembers(GroupId("g"), "CN=G,OU=Groups", (dn(n),), "moved")
    raise AssertionError(kind)


GUARDED = ["disable", "delete", "move", "rename", "wipe", "retire_group", "remove_members"]


def plan_of(kind: str, count: int, start: int = 0) -> Plan:
    return Plan(tuple(guarded(kind, n) for n in range(start, start + count)))


# --- thresholds, table-driven ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "population", "is_held"),
    [
        (9, 10, False),  # 90 %, but fewer than 10
        (10, 100, True),  # 10 % and 10: the issue's own example
        (5, 100, False),  # 5 % is not more than 5 %
        (10, 200, False),  # exactly 5 %
        (11, 200, True),  # 5.5 %
        (50, 1000, False),
        (51, 1000, True),
        (10, 0, True),  # no linked accounts yet: any share is more than 5 %
        (0, 0, False),
    ],
)
@pytest.mark.parametrize("kind", GUARDED)
def test_each_kind_is_held_past_five_percent_and_ten_accounts(
    kind: str, count: int, population: int, is_held: bool
) -> None:
    """`population` is the linked accounts, or for retirements the groups hrsync keeps."""
    plan = plan_of(kind, count)
    verdict = judge_plan(plan, population, SafetyPolicy(), managed_groups=population)
    assert verdict.is_held is is_held
    assert len(verdict.reasons) == int(is_held)


def test_reasons_say_what_how_many_of_how_many_and_the_limit() -> None:
    plan = Plan(plan_of("move", 30).changes + plan_of("wipe", 40).changes)
    reasons = judge_plan(plan, 100, SafetyPolicy()).reasons
    assert reasons == (
        "30 accounts would be moved: 30 % of the 100 linked accounts "
        "(held when more than 5 % and at least 10)",
        "mail would be emptied on 40 accounts: 40 % of the 100 linked accounts "
        "(held when more than 5 % and at least 10)",
    )
    edge = judge_plan(plan_of("disable", 11), 200, SafetyPolicy()).reasons
    assert edge == (
        "11 accounts would be disabled: 5.5 % of the 200 linked accounts "
        "(held when more than 5 % and at least 10)",
    )


def test_group_reasons_say_how_many_of_the_groups_or_accounts_and_the_limit() -> None:
    plan = Plan(plan_of("retire_group", 14).changes + plan_of("remove_members", 1).changes)
    assert judge_plan(plan, 100, SafetyPolicy(), managed_groups=120).reasons == (
        "14 groups would be retired: 11.7 % of the 120 groups hrsync keeps "
        "(held when more than 5 % and at least 10)",
    )
    removals = RemoveMembers(GroupId("g"), "CN=G", tuple(dn(n) for n in range(40)), "reorg")
    assert judge_plan(Plan((removals,)), 100, SafetyPolicy(), managed_groups=0).reasons == (
        "40 memberships would be removed from hrsync's groups: 40 % of the 100 linked accounts "
        "(held when more than 5 % and at least 10)",
    )


def test_retirements_are_judged_out_of_the_groups_and_removals_out_of_the_accounts() -> None:
    retirements, removals = plan_of("retire_group", 12), plan_of("remove_members", 12)
    assert judge_plan(retirements, 10, SafetyPolicy(), managed_groups=1000).reasons == ()
    assert judge_plan(retirements, 10_000, SafetyPolicy(), managed_groups=100).is_held
    assert judge_plan(removals, 10, SafetyPolicy(), managed_groups=1000).is_held
    assert not judge_plan(removals, 10_000, SafetyPolicy(), managed_groups=100).is_held


def test_removals_count_members_not_changes_and_adds_are_never_held() -> None:
    members = tuple(dn(n) for n in range(12))
    one_change = RemoveMembers(GroupId("g"), "CN=G", members, "team emptied")
    adds = AddMembers(GroupId("g"), "CN=G", members * 50, "new team")
    assert count_removed_members([one_change, adds]) == 12
    assert judge_plan(Plan((one_change,)), 100, SafetyPolicy(), managed_groups=10).is_held
    assert not judge_plan(Plan((adds,)), 100, SafetyPolicy(), managed_groups=10).is_held


def test_retirements_out_of_groups_not_counted_are_held_on_their_count_alone() -> None:
    """A stored plan judged again later (the plan's diff) may not know the groups it had."""
    assert not judge_plan(plan_of("retire_group", 9), 100, SafetyPolicy()).is_held
    assert judge_plan(plan_of("retire_group", 10), 100, SafetyPolicy()).reasons == (
        "10 groups would be retired: the groups hrsync keeps were not counted "
        "(held when more than 5 % and at least 10)",
    )


def test_wipes_are_counted_per_attribute_and_only_when_a_value_is_lost() -> None:
    pid, aid = PersonId("p1"), AccountId("a1")
    changes: list[Change] = [
        UpdateAttributes(
            pid, aid, dn(1), {"mail": "a@x", "title": "CFO"}, {"mail": None, "title": ""}, "r"
        ),
        UpdateAttributes(pid, aid, dn(2), {"mail": None}, {"mail": "b@x"}, "r"),  # filled
        UpdateAttributes(pid, aid, dn(3), {"mobile": None}, {"mobile": None}, "r"),  # was empty
        UpdateAttributes(pid, aid, dn(4), {"title": "CEO"}, {"title": "CTO"}, "r"),  # replaced
        SetManager(pid, aid, dn(5), dn(9), None, "r"),
        SetManager(pid, aid, dn(6), None, dn(9), "r"),
    ]
    assert count_wipes(changes) == {"mail": 1, "title": 1, "manager": 1}


def test_the_wipes_of_different_attributes_are_not_added_up() -> None:
    pid = PersonId("p")
    changes = tuple(
        UpdateAttributes(pid, AccountId(f"a{n}"), dn(n), {name: "x"}, {name: None}, "r")
        for n, name in enumerate(["mail", "title", "mobile"] * 6)
    )
    assert not judge_plan(Plan(changes), 100, SafetyPolicy()).is_held  # 6 of each
    assert judge_plan(Plan(changes * 2), 100, SafetyPolicy()).is_held  # 12 of each


def test_thresholds_are_per_kind() -> None:
    policy = SafetyPolicy(
        move=Threshold(percent=50, count=10),
        disable=Threshold(0, 1),
        retire_group=Threshold(0, 1),
        remove_members=Threshold(50, 10),
    )
    assert not judge_plan(plan_of("move", 30), 100, policy).is_held
    assert judge_plan(plan_of("disable", 1), 100, policy).is_held
    assert not judge_plan(plan_of("delete", 9), 10, policy).is_held
    assert judge_plan(plan_of("retire_group", 1), 100, policy, managed_groups=100).is_held
    assert not judge_plan(plan_of("remove_members", 30), 100, policy).is_held


def test_where_disabling_removes_the_account_disables_count_as_deletes() -> None:
    """A CSV row disabled is left out of the file: for the app, the person is gone."""
    policy = SafetyPolicy(disable=Threshold(50, 100), delete=Threshold(5, 10))
    plan = Plan(plan_of("disable", 8).changes + plan_of("delete", 4, start=100).changes)
    assert not judge_plan(plan, 100, policy).is_held
    (reason,) = judge_plan(plan, 100, policy, disable_removes=True).reasons
    assert reason.startswith("12 accounts would be deleted")


def test_creates_updates_and_enables_are_never_held() -> None:
    pid = PersonId("p")
    changes = tuple(
        EnableAccount(pid, AccountId(f"a{n}"), dn(n), "back") for n in range(500)
    ) + tuple(
        CreateAccount(pid, EmployeeNumber(str(n)), dn(n, "OU=New"), {}, True, "new")
        for n in range(500)
    )
    assert not judge_plan(Plan(changes), 10, SafetyPolicy()).is_held


# --- thresholds, properties -----------------------------------------------------------------

KINDS = st.sampled_from(GUARDED)
THRESHOLDS = st.builds(
    Threshold,
    percent=st.floats(min_value=0, max_value=100, allow_nan=False),
    count=st.integers(min_value=0, max_value=50),
)
POLICIES = st.builds(
    SafetyPolicy, disable=THRESHOLDS, delete=THRESHOLDS, move=THRESHOLDS, rename=THRESHOLDS,
    wipe=THRESHOLDS, retire_group=THRESHOLDS, remove_members=THRESHOLDS,
)  # fmt: skip
GROUP_COUNTS = st.none() | st.integers(0, 2000)


@st.composite
def plans(draw: st.DrawFn, start: int = 0) -> Plan:
    counts = draw(st.dictionaries(KINDS, st.integers(0, 60), max_size=len(GUARDED)))
    changes: list[Change] = []
    for kind, count in counts.items():
        changes += plan_of(kind, count, start).changes
        start += count
    return Plan(tuple(draw(st.permutations(changes))))


@settings(max_examples=200)
@given(plans(), plans(start=1000), st.integers(0, 2000), GROUP_COUNTS, POLICIES)
def test_adding_guarded_changes_never_releases_a_held_plan(
    plan: Plan, more: Plan, population: int, groups: int | None, policy: SafetyPolicy
) -> None:
    before = judge_plan(plan, population, policy, managed_groups=groups)
    after = judge_plan(Plan(plan.changes + more.changes), population, policy, managed_groups=groups)
    assert after.is_held or not before.is_held
    assert len(after.reasons) >= len(before.reasons)


# Most drawn plans have some kind at or over its drawn count and are assumed away; the health
# check that says so is not a failure of the property.
@settings(max_examples=200, suppress_health_check=[HealthCheck.filter_too_much])
@given(plans(), st.integers(0, 2000), GROUP_COUNTS, POLICIES)
def test_fewer_than_the_count_is_never_held_whatever_the_share(
    plan: Plan, population: int, groups: int | None, policy: SafetyPolicy
) -> None:
    counts = plan.counts()
    counts["remove_members"] = count_removed_members(plan.changes)
    kinds = ("disable", "delete", "move", "rename", "retire_group", "remove_members")
    assume(all(counts[k] < policy.threshold(k).count for k in kinds))
    assume(all(n < policy.wipe.count for n in count_wipes(plan.changes).values()))
    assert not judge_plan(plan, population, policy, managed_groups=groups).is_held


@given(THRESHOLDS, st.integers(0, 5000), st.integers(0, 5000))
def test_a_threshold_is_the_conjunction_of_count_and_share(
    threshold: Threshold, changed: int, population: int
) -> None:
    expected = (
        changed > 0
        and changed >= threshold.count
        and changed / max(population, 1e-9) * 100 > threshold.percent
    )
    if population and abs(changed * 100 - threshold.percent * population) < 1e-6:
        return  # at the exact edge float division and integer arithmetic may round apart
    assert threshold.is_exceeded(changed, population) is expected


# --- the shrink guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "previous", "is_held"),
    [
        (90, 100, False),  # exactly 10 % fewer
        (89, 100, True),
        (1, 50, True),
        (41, 50, False),  # 9 fewer: under the count
        (40, 50, True),
        (9_000, 10_000, False),
        (8_999, 10_000, True),
        (150, 100, False),  # more people is never a shrink
        (0, 5, False),
    ],
)
def test_an_import_is_held_when_it_lists_markedly_fewer_people(
    listed: int, previous: int, is_held: bool
) -> None:
    reason = judge_import(listed, previous, ShrinkGuard())
    assert (reason is not None) is is_held
    if reason is not None:
        assert f"listed {listed} people, {previous - listed} fewer than the {previous}" in reason


def test_without_a_previous_import_or_with_the_guard_off_nothing_is_held() -> None:
    assert judge_import(0, None, ShrinkGuard()) is None
    assert judge_import(0, 1000, ShrinkGuard(is_on=False)) is None
    assert ShrinkGuard(is_on=False).fewest_accepted(1000) == 0


@given(
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.integers(0, 100),
    st.integers(0, 20_000),
    st.integers(0, 20_000),
)
def test_the_fewest_accepted_is_exactly_where_the_guard_stops_holding(
    percent: float, count: int, previous: int, listed: int
) -> None:
    guard = ShrinkGuard(percent, count)
    fewest = guard.fewest_accepted(previous)
    assert guard.is_shrink(listed, previous) is (listed < fewest)


# --- rechecking an approved plan --------------------------------------------------------------

ID = "employeeNumber"
TAKEN = "the target changed since the plan was held: "


def account(n: int, ou: str = OU, *, enabled: bool = True, **attributes: str) -> Account:
    values: dict[str, str | None] = {ID: f"p{n}", "cn": f"P{n}", **attributes}
    return Account(AccountId(f"a{n}"), dn(n, ou), enabled, values, container=ou)


def test_an_untouched_directory_leaves_every_change_standing() -> None:
    accounts = [account(1, title="CFO", manager=dn(2)), account(2), account(3, enabled=False)]
    plan = Plan(
        (
            RenameAccount(PersonId("p1"), AccountId("a1"), dn(1), "Q1", "name"),
            MoveAccount(PersonId("p1"), AccountId("a1"), "CN=Q1," + OU, "OU=Sales", "org"),
            UpdateAttributes(
                PersonId("p1"),
                AccountId("a1"),
                "CN=Q1,OU=Sales",
                {"title": "CFO"},
                {"title": "CEO"},
                "HR",
            ),
            SetManager(PersonId("p1"), AccountId("a1"), "CN=Q1,OU=Sales", dn(2), None, "HR"),
            EnableAccount(PersonId("p3"), AccountId("a3"), dn(3), "back"),
            DisableAccount(PersonId("p2"), AccountId("a2"), dn(2), "left"),
            CreateAccount(
                PersonId("p4"), EmployeeNumber("4"), dn(4), {"sAMAccountName": "p4"}, True, "new"
            ),
            ManualStep(PersonId("p5"), None, "manager must be entered manually", {}),
        )
    )
    assert recheck_plan(plan, accounts, ID, AD_PROFILE) == {}


@pytest.mark.parametrize(
    ("now", "change", "reason"),
    [
        (
            account(1, title="Boss"),
            UpdateAttributes(
                PersonId("p1"), AccountId("a1"), dn(1), {"title": "CFO"}, {"title": "CEO"}, "HR"
            ),
            "the account changed since the plan was held: title is now 'Boss' (the plan saw 'CFO')",
        ),
        (
            account(1, "OU=Elsewhere"),
            MoveAccount(PersonId("p1"), AccountId("a1"), dn(1), "OU=Sales", "org"),
            f"the account changed since the plan was held: it is now {dn(1, 'OU=Elsewhere')} "
            f"(the plan saw {dn(1)})",
        ),
        (
            None,
            DeleteAccount(PersonId("p1"), AccountId("a1"), dn(1), "retention"),
            "the account changed since the plan was held: it no longer exists",
        ),
        (
            account(1, enabled=False),
            DisableAccount(PersonId("p1"), AccountId("a1"), dn(1), "left"),
            "the account changed since the plan was held: it is disabled already",
        ),
        (
            account(1, manager=dn(7)),
            SetManager(PersonId("p1"), AccountId("a1"), dn(1), dn(2), dn(3), "HR"),
            f"the account changed since the plan was held: manager is now '{dn(7)}' "
            f"(the plan saw '{dn(2)}')",
        ),
        (
            account(1),
            CreateAccount(PersonId("p1"), EmployeeNumber("1"), dn(1, "OU=New"), {}, True, "new"),
            f"{TAKEN}the person has an account now, {dn(1)}",
        ),
        (
            account(9, sAMAccountName="anna"),
            CreateAccount(
                PersonId("p1"), EmployeeNumber("1"), dn(1), {"sAMAccountName": "Anna"}, True, "new"
            ),
            f"{TAKEN}sAMAccountName Anna is taken now, by {dn(9)}",
        ),
    ],
)
def test_a_change_whose_account_moved_on_is_skipped_with_the_reason(
    now: Account | None, change: Change, reason: str
) -> None:
    assert recheck_plan(Plan((change,)), [now] if now else [], ID, AD_PROFILE) == {0: reason}


def test_an_edit_the_change_does_not_depend_on_leaves_it_standing() -> None:
    plan = Plan(
        (
            MoveAccount(PersonId("p1"), AccountId("a1"), dn(1), "OU=Sales", "org"),
            UpdateAttributes(
                PersonId("p1"),
                AccountId("a1"),
                dn(1, "OU=Sales"),
                {"title": "CFO"},
                {"title": "CEO"},
                "HR",
            ),
        )
    )
    assert recheck_plan(plan, [account(1, title="CFO", mobile="+46 70 000")], ID, AD_PROFILE) == {}


def test_every_change_of_a_moved_account_is_skipped_and_a_manager_pointing_there_too() -> None:
    moved = "CN=P1,OU=Sales"
    plan = Plan(
        (
            MoveAccount(PersonId("p1"), AccountId("a1"), dn(1), "OU=Sales", "org", new_ref=moved),
            UpdateAttributes(
                PersonId("p1"), AccountId("a1"), moved, {"title": "CFO"}, {"title": "CEO"}, "HR"
            ),
            SetManager(PersonId("p2"), AccountId("a2"), dn(2), None, moved, "HR"),
            SetManager(PersonId("p3"), AccountId("a3"), dn(3), None, dn(4), "HR"),
        )
    )
    accounts = [account(1, "OU=Old", title="CFO"), account(2), account(3), account(4)]
    stale = recheck_plan(plan, accounts, ID, AD_PROFILE)
    assert set(stale) == {0, 1, 2}
    assert stale[2] == f"the manager's account is not at {moved}: that change was skipped"


def test_skipped_changes_are_not_applied_and_reports_lose_a_skipped_manager() -> None:
    directory = MemoryDirectory()
    manager = CreateAccount(PersonId("p1"), EmployeeNumber("1"), dn(1), {ID: "p1"}, True, "new")
    report = CreateAccount(
        PersonId("p2"), EmployeeNumber("2"), dn(2), {ID: "p2", "manager": dn(1)}, True, "new"
    )
    outcomes = apply_changes((manager, report), directory, skipped={0: "it moved on"})
    assert [(o.status, o.error) for o in outcomes] == [
        (Status.SKIPPED, "it moved on"),
        (Status.APPLIED, None),
    ]
    assert list(directory.accounts) == [dn(2).casefold()]
    assert "manager" not in directory.accounts[dn(2).casefold()].attributes


@settings(max_examples=40, deadline=None)
@given(people_lists())
def test_a_plan_rechecked_before_it_is_applied_stands_and_after_it_is_all_stale(
    people: list,  # type: ignore[type-arg]
) -> None:
    directory = MemoryDirectory()
    apply_changes(plan_changes(people, [], {}, POLICY, TODAY).changes, directory)
    later = [
        ended(p) if n % 3 == 0 else dataclasses.replace(p, family_name="Berg")
        for n, p in enumerate(people)
    ]
    plan = plan_changes(later, directory.read_accounts(), {}, POLICY, TODAY + timedelta(days=1))
    assert recheck_plan(plan, directory.read_accounts(), ID, AD_PROFILE) == {}
    apply_changes(plan.changes, directory)
    stale = recheck_plan(plan, directory.read_accounts(), ID, AD_PROFILE)
    # Approving the same plan twice applies nothing the second time. (The in-memory directory
    # reads a CN with an escaped comma short, so it may plan a rename to the same DN: no-op.)
    assert set(stale) == {
        n
        for n, c in enumerate(plan.changes)
        if not isinstance(c, ManualStep)
        and not (isinstance(c, RenameAccount) and _same_dn(resulting_ref(c), c.ref))
    }


def _same_dn(one: str | None, other: str) -> bool:
    return one is not None and normalise_dn(one) == normalise_dn(other)
