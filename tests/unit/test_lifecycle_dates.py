"""Lifecycle by effective dates: the stages, the local-midnight rule across DST in
Europe/Stockholm, and what the planner does with them day by day."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.domain.changes import (
    CreateAccount,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    MoveAccount,
    UpdateAttributes,
)
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Plan, Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.lifecycle_dates import (
    LifecyclePolicy,
    Stage,
    local_day,
    standing_on,
    takes_effect_at,
)
from hrsync.engine.plan import plan_changes
from tests.unit.memory_target import MemoryDirectory

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SPRING_FORWARD = date(2026, 3, 29)  # 02:00 CET becomes 03:00 CEST
FALL_BACK = date(2026, 10, 25)  # 03:00 CEST becomes 02:00 CET
START = date(2026, 12, 1)
DEFAULT = LifecyclePolicy()
USERS = "OU=People,DC=example,DC=test"
LEAVERS = "OU=Leavers,DC=example,DC=test"
POLICY = DirectoryPolicy(users_ou=USERS, upn_suffix="example.test")


def employment(
    start: date | None = START, end: date | None = None, kind: str = "Tillsvidare"
) -> Employment:
    return Employment("c1", "Acme Sverige AB", "Ekonom", kind, start, end)


@pytest.mark.parametrize(
    ("job", "day", "policy", "stage", "reason"),
    [
        (employment(), START - timedelta(15), DEFAULT, Stage.UPCOMING, "starts on 2026-12-01"),
        (employment(), START - timedelta(14), DEFAULT, Stage.PREHIRE, "starts on 2026-12-01"),
        (employment(), START - timedelta(1), DEFAULT, Stage.PREHIRE, "starts on 2026-12-01"),
        (employment(), START, DEFAULT, Stage.ACTIVE, "employment is active"),
        (employment(), START - timedelta(1), LifecyclePolicy(0), Stage.UPCOMING, "starts on"),
        (employment(), START - timedelta(30), LifecyclePolicy(30), Stage.PREHIRE, "starts on"),
        (employment(None), START, DEFAULT, Stage.ACTIVE, "active"),
        (employment(end=START), START, DEFAULT, Stage.ACTIVE, "active"),
        (employment(end=START), START + timedelta(1), DEFAULT, Stage.LEFT, "ended on 2026-12-01"),
        (employment(end=START), date(2030, 1, 1), DEFAULT, Stage.LEFT, "ended on 2026-12-01"),
        (employment(end=START), START + timedelta(30), LifecyclePolicy(14, 30), Stage.LEFT, ""),
        (
            employment(end=START),
            START + timedelta(31),
            LifecyclePolicy(14, 30),
            Stage.EXPIRED,
            "kept 30 days after the last day",
        ),
        (employment(end=START), START + timedelta(1), LifecyclePolicy(14, 0), Stage.EXPIRED, ""),
    ],
)
def test_the_stage_of_each_day(
    job: Employment, day: date, policy: LifecyclePolicy, stage: Stage, reason: str
) -> None:
    standing = standing_on(job, day, policy)
    assert standing.stage is stage
    assert reason in standing.reason
    assert standing.is_enabled is (stage is Stage.ACTIVE)
    assert standing.may_create is (stage in (Stage.PREHIRE, Stage.ACTIVE))


# --- the local-midnight rule, across daylight saving time ---------------------------------------

DST_DAYS = st.sampled_from(
    [SPRING_FORWARD, SPRING_FORWARD + timedelta(1), FALL_BACK, FALL_BACK + timedelta(1), START]
)
ANY_DAY = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
SECONDS = st.integers(min_value=-3 * 86400, max_value=3 * 86400)


def instant_near(day: date, seconds: int) -> datetime:
    """An aware UTC instant `seconds` from `day`'s midnight in Stockholm."""
    return takes_effect_at(day, STOCKHOLM).astimezone(UTC) + timedelta(seconds=seconds)


@given(DST_DAYS | ANY_DAY, SECONDS)
def test_a_start_date_takes_effect_at_local_midnight(start: date, seconds: int) -> None:
    now = instant_near(start, seconds)
    today = local_day(now, STOCKHOLM)
    standing = standing_on(employment(start), today, DEFAULT)
    assert standing.is_enabled is (seconds >= 0)
    assert standing.may_create


@given(DST_DAYS | ANY_DAY, SECONDS)
def test_a_leaver_is_disabled_at_the_midnight_after_the_last_day(last: date, seconds: int) -> None:
    now = instant_near(last + timedelta(1), seconds)
    job = employment(last - timedelta(400), last)
    standing = standing_on(job, local_day(now, STOCKHOLM), DEFAULT)
    assert standing.stage is (Stage.LEFT if seconds >= 0 else Stage.ACTIVE)


@given(DST_DAYS | ANY_DAY, SECONDS, st.integers(min_value=0, max_value=60))
def test_the_pre_hire_window_opens_at_local_midnight(
    start: date, seconds: int, window: int
) -> None:
    now = instant_near(start - timedelta(window), seconds)
    policy = LifecyclePolicy(prehire_days=window)
    standing = standing_on(employment(start), local_day(now, STOCKHOLM), policy)
    assert standing.may_create is (seconds >= 0)


def test_the_spring_forward_day_starts_at_its_midnight_in_winter_time() -> None:
    # 2026-03-29 00:00 is still CET (UTC+1): the clocks jump only at 02:00.
    assert takes_effect_at(SPRING_FORWARD, STOCKHOLM) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    before = datetime(2026, 3, 28, 22, 59, 59, tzinfo=UTC)
    at = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert not standing_on(
        employment(SPRING_FORWARD), local_day(before, STOCKHOLM), DEFAULT
    ).is_enabled
    assert standing_on(employment(SPRING_FORWARD), local_day(at, STOCKHOLM), DEFAULT).is_enabled
    # The day after begins in summer time (UTC+2).
    assert takes_effect_at(SPRING_FORWARD + timedelta(1), STOCKHOLM) == datetime(
        2026, 3, 29, 22, tzinfo=UTC
    )


def test_a_naive_as_of_time_is_wall_clock_time_in_the_zone() -> None:
    assert local_day(datetime(2026, 12, 1), STOCKHOLM) == date(2026, 12, 1)
    assert local_day(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), STOCKHOLM) == date(2026, 12, 1)
    assert local_day(datetime(2026, 11, 30, 22, 59, tzinfo=UTC), STOCKHOLM) == date(2026, 11, 30)


# --- the planner, day by day --------------------------------------------------------------------


def anna(job: Employment, number: str = "1001") -> Person:
    return Person(PersonId("p1"), EmployeeNumber(number), "Anna", "Berg", job)


def run(
    person: Person, directory: MemoryDirectory, day: date, policy: LifecyclePolicy = DEFAULT
) -> Plan:
    plan = plan_changes([person], directory.read_accounts(), {}, POLICY, day, lifecycle=policy)
    outcomes = apply_changes(plan.changes, directory)
    assert all(o.status is Status.APPLIED for o in outcomes), outcomes
    return plan


def kinds(plan: Plan) -> list[str]:
    return [type(change).__name__ for change in plan.changes]


def only_account(directory: MemoryDirectory) -> tuple[str, bool]:
    (account,) = directory.accounts.values()
    return account.ref, account.is_enabled


def test_a_pre_hire_gets_a_disabled_account_and_is_enabled_on_the_start_date() -> None:
    directory, person = MemoryDirectory(), anna(employment())
    assert run(person, directory, START - timedelta(15)).is_empty
    (create,) = run(person, directory, START - timedelta(14)).changes
    assert isinstance(create, CreateAccount)
    assert not create.is_enabled
    assert create.reason == "pre-hire: employment starts on 2026-12-01"
    assert run(person, directory, START - timedelta(1)).is_empty
    (enable,) = run(person, directory, START).changes
    assert isinstance(enable, EnableAccount)
    assert only_account(directory)[1]


def test_a_leaver_is_disabled_the_day_after_and_deleted_after_the_retention() -> None:
    directory, policy = MemoryDirectory(), LifecyclePolicy(delete_after_days=30)
    last = date(2026, 6, 30)
    person = anna(employment(date(2020, 1, 1), last))
    run(person, directory, last, policy)
    assert only_account(directory)[1]
    (disable,) = run(person, directory, last + timedelta(1), policy).changes
    assert isinstance(disable, DisableAccount)
    assert disable.reason == "employment ended on 2026-06-30"
    assert run(person, directory, last + timedelta(30), policy).is_empty
    (delete,) = run(person, directory, last + timedelta(31), policy).changes
    assert isinstance(delete, DeleteAccount)
    assert not directory.accounts
    assert run(person, directory, last + timedelta(32), policy).is_empty


def test_without_a_retention_a_leavers_account_is_kept_disabled() -> None:
    directory, last = MemoryDirectory(), date(2026, 6, 30)
    person = anna(employment(date(2020, 1, 1), last))
    run(person, directory, last)
    run(person, directory, last + timedelta(1))
    assert run(person, directory, date(2036, 1, 1)).is_empty
    assert not only_account(directory)[1]


def test_a_rehire_gets_the_same_account_back_from_the_leavers_ou() -> None:
    directory, policy = MemoryDirectory(), LifecyclePolicy(leavers_ou=LEAVERS)
    last = date(2026, 6, 30)
    run(anna(employment(date(2020, 1, 1), last)), directory, last, policy)
    ((_, first),) = [(a.account_id, a) for a in directory.accounts.values()]
    left = run(anna(employment(date(2020, 1, 1), last)), directory, last + timedelta(1), policy)
    assert sorted(kinds(left)) == ["DisableAccount", "MoveAccount"]
    move = next(c for c in left.changes if isinstance(c, MoveAccount))
    assert move.new_container == LEAVERS
    assert move.reason == "employment ended on 2026-06-30: moved to the leavers OU"
    assert only_account(directory) == (f"CN=Anna Berg,{LEAVERS}", False)

    rehire = anna(employment(date(2026, 9, 1)))  # HR adds a new period
    assert run(rehire, directory, date(2026, 8, 1), policy).is_empty  # not yet in the window
    back = run(rehire, directory, date(2026, 8, 18), policy)  # 14 days before
    assert kinds(back) == ["MoveAccount"]
    assert (
        back.changes[0].reason == "employment starts on 2026-09-01: moved back from the leavers OU"
    )
    (enable,) = run(rehire, directory, date(2026, 9, 1), policy).changes
    assert isinstance(enable, EnableAccount)
    (account,) = directory.accounts.values()
    assert account.account_id == first.account_id
    assert (account.ref, account.is_enabled) == (f"CN=Anna Berg,{USERS}", True)


def test_a_contractor_who_becomes_an_employee_keeps_the_account() -> None:
    directory, day = MemoryDirectory(), date(2026, 6, 1)
    contractor = anna(employment(date(2025, 1, 1), date(2026, 6, 30), kind="Konsult"), "K17")
    run(contractor, directory, day)
    (before,) = directory.accounts.values()
    # A new period as an employee, with a new employment number: the same person id.
    employee = anna(employment(date(2026, 7, 1), kind="Tillsvidare"), "1042")
    plan = run(employee, directory, date(2026, 7, 1))
    assert kinds(plan) == ["UpdateAttributes"]
    update = plan.changes[0]
    assert isinstance(update, UpdateAttributes)
    assert update.after == {"employeeID": "1042"}
    (after,) = directory.accounts.values()
    assert (after.account_id, after.ref, after.is_enabled) == (before.account_id, before.ref, True)


def test_an_account_for_someone_starting_later_is_kept_but_disabled() -> None:
    directory = MemoryDirectory()
    run(anna(employment(date(2020, 1, 1))), directory, START)
    later = anna(dataclasses.replace(employment(), start_date=START + timedelta(60)))
    (disable,) = run(later, directory, START).changes
    assert isinstance(disable, DisableAccount)
    assert disable.reason == "employment starts on 2027-01-30"
    assert not only_account(directory)[1]
