"""Due slots: cron and anchored intervals, overdue collapse, and DST in Europe/Stockholm."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from hrsync.app.jobs.schedules import Due, due_slot, is_clocked

ZONE = "Europe/Stockholm"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ticks(schedule: str, start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    """Tick like the scheduler from `start` to `end`; the slots it would run, in order."""
    ran: list[datetime] = []
    last = start
    now = start
    while now <= end:
        due = due_slot(schedule, ZONE, last, now)
        if due.slot is not None:
            ran.append(due.slot)
            last = due.slot
        now += every
    return ran


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [("", False), ("on-change", False), (" On-Change ", False), ("*/2 * * * *", True)],
)
def test_only_clock_schedules_are_clocked(schedule: str, expected: bool) -> None:
    assert is_clocked(schedule) is expected


def test_cron_every_two_minutes_runs_each_even_minute_once() -> None:
    ran = ticks(
        "*/2 * * * *", utc(2026, 5, 4, 8, 0, 30), utc(2026, 5, 4, 8, 10, 30), timedelta(seconds=20)
    )
    assert ran == [utc(2026, 5, 4, 8, m) for m in (2, 4, 6, 8, 10)]


def test_due_names_the_slot_and_the_next_one() -> None:
    due = due_slot("*/2 * * * *", ZONE, utc(2026, 5, 4, 8, 0), utc(2026, 5, 4, 8, 2, 5))
    assert due == Due(utc(2026, 5, 4, 8, 2), utc(2026, 5, 4, 8, 4))


def test_no_last_slot_means_nothing_is_due_yet() -> None:
    due = due_slot("*/2 * * * *", ZONE, None, utc(2026, 5, 4, 8, 3))
    assert due == Due(None, utc(2026, 5, 4, 8, 4))


def test_interval_is_anchored_on_its_start_and_does_not_drift() -> None:
    schedule = "every 15m from 2026-01-01T06:05"
    # Ticks at odd moments (every 7 minutes and 13 s) still run exactly on :05, :20, :35, :50.
    ran = ticks(schedule, utc(2026, 5, 4, 8, 0), utc(2026, 5, 4, 10, 0), timedelta(seconds=433))
    assert ran
    assert all(slot.minute in (5, 20, 35, 50) and slot.second == 0 for slot in ran)
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(ran))


def test_overdue_slots_after_downtime_collapse_into_the_latest() -> None:
    last = utc(2026, 5, 4, 8, 0)
    due = due_slot("*/2 * * * *", ZONE, last, utc(2026, 5, 4, 11, 7, 30))
    assert due == Due(utc(2026, 5, 4, 11, 6), utc(2026, 5, 4, 11, 8))
    interval = due_slot("every 1h from 2026-01-01T00:00", ZONE, last, utc(2026, 5, 6, 3, 30))
    assert interval.slot == utc(2026, 5, 6, 3, 0)


@pytest.mark.parametrize("schedule", ["30 2 * * *", "every 1d from 2026-01-01T02:30"])
@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # Spring: 02:00 → 03:00 on 29 March; no 02:30 that day, the job runs once after the gap.
        ((2026, 3, 29), 1),
        # Autumn: 03:00 → 02:00 on 25 October; 02:30 happens twice, the job runs once.
        ((2026, 10, 25), 1),
    ],
)
def test_a_daily_0230_job_is_neither_skipped_nor_doubled_across_dst(
    schedule: str, day: tuple[int, int, int], expected: int
) -> None:
    start = utc(*day) - timedelta(hours=3)
    ran = ticks(schedule, start, start + timedelta(hours=6), timedelta(minutes=1))
    assert len(ran) == expected
    # Over three days around the change there is one run per day.
    ran = ticks(
        schedule, start - timedelta(days=1), start + timedelta(days=2), timedelta(minutes=5)
    )
    assert len(ran) == 3
    assert len({slot.astimezone(UTC).date() for slot in ran}) == 3
