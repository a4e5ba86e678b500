"""Schedules: the three forms parse and print back; run times are aware, ordered, DST-correct."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.app.jobs.schedules import (
    Cron,
    Interval,
    OnChange,
    ScheduleError,
    format_schedule,
    next_run_times,
    parse_schedule,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SPRING = datetime(2026, 3, 29)  # clocks go 02:00 → 03:00
AUTUMN = datetime(2026, 10, 25)  # clocks go 03:00 → 02:00


def at(text: str) -> datetime:
    """A wall time in Stockholm, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


def walls(times: list[datetime]) -> list[str]:
    return [f"{t:%Y-%m-%dT%H:%M%z}" for t in times]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*/2 * * * *", Cron("*/2 * * * *")),
        ("  0   6 * * 1-5 ", Cron("0 6 * * 1-5")),
        ("every 15m from 2026-01-01T06:00", Interval(15, "m", datetime(2026, 1, 1, 6, 0))),
        ("Every 2H from 2026-01-01 06:30", Interval(2, "h", datetime(2026, 1, 1, 6, 30))),
        ("every 1d from 2026-03-01T02:30", Interval(1, "d", datetime(2026, 3, 1, 2, 30))),
        ("on-change", OnChange()),
        ("ON-CHANGE", OnChange()),
    ],
)
def test_the_three_forms_parse(text: str, expected: object) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "empty"),
        ("*/2 * * *", "five fields"),
        ("0 0 6 * * *", "five fields"),
        ("61 * * * *", "not a valid cron"),
        ("every 15m", "every 15m from"),
        ("every 15s from 2026-01-01T06:00", "units m, h, d"),
        ("every 0m from 2026-01-01T06:00", "between 1"),
        ("every 5m from 2026-02-30T06:00", "not a date"),
        ("hourly", "five fields"),
    ],
)
def test_a_bad_schedule_says_what_is_expected(text: str, hint: str) -> None:
    with pytest.raises(ScheduleError, match=hint):
        parse_schedule(text)


@st.composite
def schedules(draw: st.DrawFn) -> Cron | Interval | OnChange:
    kind = draw(st.sampled_from(["cron", "interval", "on-change"]))
    if kind == "cron":
        minute = draw(st.sampled_from(["*", "*/5", "0", "15,45", "0-30/10"]))
        hour = draw(st.sampled_from(["*", "6", "*/2", "8-17"]))
        weekday = draw(st.sampled_from(["*", "1-5", "0", "MON"]))
        return Cron(f"{minute} {hour} * * {weekday}")
    if kind == "interval":
        start = draw(st.datetimes(datetime(2000, 1, 1), datetime(2090, 1, 1))).replace(
            second=0, microsecond=0
        )
        return Interval(draw(st.integers(1, 10_000)), draw(st.sampled_from("mhd")), start)
    return OnChange()


@given(schedules())
def test_printing_and_parsing_again_gives_the_same_schedule(schedule: object) -> None:
    assert isinstance(schedule, Cron | Interval | OnChange)
    assert parse_schedule(format_schedule(schedule)) == schedule


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_a_schedule_error(text: str) -> None:
    try:
        schedule = parse_schedule(text)
    except ScheduleError as error:
        assert str(error)
    else:
        assert parse_schedule(format_schedule(schedule)) == schedule


@given(
    schedules(),
    st.datetimes(datetime(2020, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(["Europe/Stockholm", "UTC", "America/New_York"]),
)
def test_run_times_are_aware_ordered_in_the_zone_and_after_the_moment(
    schedule: Cron | Interval | OnChange, after: datetime, zone: str
) -> None:
    times = next_run_times(schedule, zone, count=5, after=after)
    assert len(times) == (0 if isinstance(schedule, OnChange) else 5)
    assert all(t.tzinfo == ZoneInfo(zone) for t in times)
    instants = [t.astimezone(UTC) for t in times]
    assert all(t > after for t in instants)
    assert instants == sorted(set(instants))


@given(
    st.integers(1, 600),
    st.sampled_from("mh"),
    st.datetimes(datetime(2020, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC)),
)
def test_sub_day_intervals_are_absolute_and_never_drift(
    count: int, unit: str, after: datetime
) -> None:
    schedule = f"every {count}{unit} from 2026-01-01T06:00"
    step = timedelta(minutes=count) if unit == "m" else timedelta(hours=count)
    # In UTC: Python subtracts two datetimes of one zone by wall time.
    times = [
        t.astimezone(UTC)
        for t in next_run_times(schedule, "Europe/Stockholm", count=4, after=after)
    ]
    anchor = at("2026-01-01T06:00").astimezone(UTC)
    assert all(b - a == step for a, b in itertools.pairwise(times))
    assert all((t - anchor) % step == timedelta(0) for t in times)
    assert times[0] - step <= after or times[0] == anchor


def test_a_daily_interval_keeps_its_wall_time_across_both_dst_changes() -> None:
    spring = next_run_times(
        "every 1d from 2026-01-01T06:00", "Europe/Stockholm", count=3, after=at("2026-03-28T07:00")
    )
    assert walls(spring) == [
        "2026-03-29T06:00+0200",
        "2026-03-30T06:00+0200",
        "2026-03-31T06:00+0200",
    ]
    autumn = next_run_times(
        "every 1d from 2026-01-01T06:00", "Europe/Stockholm", count=2, after=at("2026-10-24T07:00")
    )
    assert walls(autumn) == ["2026-10-25T06:00+0100", "2026-10-26T06:00+0100"]


def test_a_daily_interval_at_a_skipped_wall_time_runs_an_hour_later_that_day() -> None:
    times = next_run_times(
        "every 1d from 2026-03-27T02:30", "Europe/Stockholm", count=3, after=at("2026-03-27T03:00")
    )
    assert walls(times) == [
        "2026-03-28T02:30+0100",
        "2026-03-29T03:30+0200",
        "2026-03-30T02:30+0200",
    ]


def test_a_half_hourly_interval_is_thirty_real_minutes_through_the_spring_gap() -> None:
    times = next_run_times(
        "every 30m from 2026-03-29T00:00", "Europe/Stockholm", count=4, after=at("2026-03-29T01:00")
    )
    assert walls(times) == [
        "2026-03-29T01:30+0100",
        "2026-03-29T03:00+0200",
        "2026-03-29T03:30+0200",
        "2026-03-29T04:00+0200",
    ]


def test_an_hourly_interval_runs_twice_in_the_repeated_autumn_hour() -> None:
    times = next_run_times(
        "every 1h from 2026-10-25T00:00", "Europe/Stockholm", count=4, after=at("2026-10-25T00:30")
    )
    assert walls(times) == [
        "2026-10-25T01:00+0200",
        "2026-10-25T02:00+0200",
        "2026-10-25T02:00+0100",
        "2026-10-25T03:00+0100",
    ]


def test_cron_stays_on_local_wall_time_across_dst() -> None:
    times = next_run_times("0 6 * * *", "Europe/Stockholm", count=3, after=at("2026-03-28T12:00"))
    assert walls(times) == [
        "2026-03-29T06:00+0200",
        "2026-03-30T06:00+0200",
        "2026-03-31T06:00+0200",
    ]


def test_cron_at_a_skipped_time_runs_once_when_the_gap_ends() -> None:
    times = next_run_times("30 2 * * *", "Europe/Stockholm", count=3, after=at("2026-03-28T12:00"))
    assert walls(times) == [
        "2026-03-29T03:00+0200",
        "2026-03-30T02:30+0200",
        "2026-03-31T02:30+0200",
    ]


def test_cron_at_a_repeated_time_runs_once() -> None:
    times = next_run_times("30 2 * * *", "Europe/Stockholm", count=2, after=at("2026-10-24T12:00"))
    assert walls(times) == ["2026-10-25T02:30+0200", "2026-10-26T02:30+0100"]


def test_an_interval_before_its_start_begins_at_the_start() -> None:
    times = next_run_times(
        "every 15m from 2026-01-01T06:00", "Europe/Stockholm", count=2, after=at("2025-12-01T00:00")
    )
    assert walls(times) == ["2026-01-01T06:00+0100", "2026-01-01T06:15+0100"]


def test_run_times_beyond_the_calendar_are_none_rather_than_an_error() -> None:
    late = datetime(9999, 12, 31, 12, tzinfo=UTC)
    assert next_run_times("every 10000d from 9999-01-01T00:00", "UTC", after=late) == []
    assert next_run_times("0 0 1 1 *", "Europe/Stockholm", after=late) == []


def test_on_change_has_no_clock_and_an_unknown_zone_is_refused() -> None:
    assert next_run_times("on-change", "Europe/Stockholm") == []
    with pytest.raises(ScheduleError, match="unknown time zone"):
        next_run_times("*/5 * * * *", "Mars/Olympus")
