"""Connection and source schedules: parse the text an admin types and tell the next run times.

Three forms:

- a five-field cron expression, `*/2 * * * *`, evaluated in the connection's time zone (cronsim
  steps through local time, so `0 6 * * *` stays at 06:00 across daylight-saving changes);
- an interval anchored on a start, `every 15m from 2026-01-01T06:00` (units m, h, d; the start is
  a wall time in the connection's zone). Runs fall on start + k * interval, never drifting with
  how long a run took. Whole-day intervals keep the start's wall time across DST ("every 1d from
  …T06:00" is 06:00 in winter and summer); sub-day intervals are absolute durations, so
  "every 1h" is one real hour apart even across the hour that DST skips or repeats;
- `on-change`: no clock; a run is queued when an import records a change.

A wall time that DST skips (02:30 on the last Sunday of March in Stockholm): an interval runs at
the equivalent instant one hour later (03:30), cron as cronsim decides (when the gap ends,
03:00). A repeated wall time (autumn) runs once, at its first occurrence.

`due_slot` is what the scheduler asks on every tick: given the last slot already handled and the
time now, the latest slot in (last, now] — after downtime the missed slots collapse into one run,
not one per slot — and the first slot after now.

Pure arithmetic, free of Django: hrsync.app depends on this module, never the other way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

ON_CHANGE = "on-change"
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
MAX_COUNT = 10_000
"""A larger interval count than any real schedule, small enough to keep the arithmetic sane."""
_INTERVAL = re.compile(
    r"^every\s+(?P<count>\d{1,5})\s*(?P<unit>[mhd])\s+from\s+"
    r"(?P<start>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})$",
    re.IGNORECASE,
)


class ScheduleError(ValueError):
    """The schedule text is not one of the three forms; the message says what is expected."""


@dataclass(frozen=True, slots=True)
class Due:
    """`slot`: the slot to run now (None: nothing due); `next_slot`: the first slot after now."""

    slot: datetime | None
    next_slot: datetime | None


@dataclass(frozen=True, slots=True)
class Cron:
    expression: str


@dataclass(frozen=True, slots=True)
class Interval:
    count: int
    unit: str
    """m, h or d."""
    start: datetime
    """Naive: a wall time in the connection's zone."""

    @property
    def step(self) -> timedelta:
        return self.count * UNITS[self.unit]

    @property
    def is_whole_days(self) -> bool:
        return self.unit == "d"


@dataclass(frozen=True, slots=True)
class OnChange:
    pass


Schedule = Cron | Interval | OnChange


def parse_schedule(text: str) -> Schedule:
    """The schedule `text` describes; ScheduleError with a reason when it describes none."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ScheduleError(
            "the schedule is empty: give a cron expression, an interval or on-change"
        )
    if cleaned.lower() == ON_CHANGE:
        return OnChange()
    if cleaned.lower().startswith("every"):
        return _parse_interval(cleaned)
    return _parse_cron(cleaned)


def format_schedule(schedule: Schedule) -> str:
    """The canonical text of a schedule; parsing it gives the same schedule back."""
    match schedule:
        case Cron(expression):
            return expression
        case Interval(count, unit, start):
            return f"every {count}{unit} from {start:%Y-%m-%dT%H:%M}"
        case OnChange():
            return ON_CHANGE


def zone_of(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(f"unknown time zone {tz_name!r}") from error


def next_run_times(
    schedule: str | Schedule, tz_name: str, count: int = 5, after: datetime | None = None
) -> list[datetime]:
    """The next `count` run times strictly after `after` (default: now), as aware datetimes in
    the zone `tz_name`. Empty for on-change, and when they would fall after the year 9999."""
    parsed = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    zone = zone_of(tz_name)
    # Arithmetic and comparisons in UTC: Python compares and subtracts two datetimes of the same
    # zone by wall time, which is wrong across a DST change.
    moment = (after or datetime.now(UTC)).astimezone(UTC)
    try:
        match parsed:
            case Cron(expression):
                return _cron_times(expression, zone, moment, count)
            case Interval() as interval:
                return _interval_times(interval, zone, moment, count)
            case OnChange():
                return []
    except OverflowError:
        # Past year 9999 there are no more run times to tell.
        return []


def is_clocked(schedule: str) -> bool:
    """Whether the schedule runs by the clock (not empty, not on-change)."""
    cleaned = schedule.strip().lower()
    return bool(cleaned) and cleaned != ON_CHANGE


def due_slot(
    schedule: str | Schedule, tz_name: str, last_slot: datetime | None, now: datetime
) -> Due:
    """The latest slot in (last_slot, now] and the first slot after now, both in UTC.

    With no last slot nothing is due yet: the schedule starts counting from now. On-change has
    no slots."""
    parsed = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    zone = zone_of(tz_name)
    moment = now.astimezone(UTC)
    latest: datetime | None
    match parsed:
        case Cron(expression):
            latest = _cron_at_or_before(expression, zone, moment)
        case Interval() as interval:
            index = _first_index(interval, zone, moment) - 1
            latest = _occurrence(interval, zone, index).astimezone(UTC) if index >= 0 else None
        case OnChange():
            return Due(None, None)
    following = next_run_times(parsed, tz_name, 1, after=moment)
    is_due = latest is not None and last_slot is not None and latest > last_slot
    return Due(latest if is_due else None, following[0].astimezone(UTC) if following else None)


def _cron_at_or_before(expression: str, zone: ZoneInfo, moment: datetime) -> datetime | None:
    # Reverse from a minute past `moment`: cronsim's reverse walk may start strictly before it.
    start = (moment.replace(second=0, microsecond=0) + timedelta(minutes=1)).astimezone(zone)
    for time in CronSim(expression, start, reverse=True):
        if time.astimezone(UTC) <= moment:
            return time.astimezone(UTC)
    return None


def _parse_cron(text: str) -> Cron:
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"{text!r}: a cron expression has five fields (minute hour day month weekday); "
            "or write 'every 15m from 2026-01-01T06:00', or 'on-change'"
        )
    try:
        CronSim(text, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ScheduleError(f"{text!r} is not a valid cron expression: {error}") from error
    return Cron(text)


def _parse_interval(text: str) -> Interval:
    found = _INTERVAL.match(text)
    if found is None:
        raise ScheduleError(
            f"{text!r}: write an interval as 'every 15m from 2026-01-01T06:00' (units m, h, d)"
        )
    count = int(found["count"])
    if not 1 <= count <= MAX_COUNT:
        raise ScheduleError(f"{text!r}: the interval must be between 1 and {MAX_COUNT}")
    try:
        start = datetime.fromisoformat(found["start"].replace(" ", "T"))
    except ValueError as error:
        raise ScheduleError(f"{text!r}: {found['start']} is not a date and time") from error
    return Interval(count, found["unit"].lower(), start)


def _cron_times(expression: str, zone: ZoneInfo, moment: datetime, count: int) -> list[datetime]:
    # cronsim steps through the wall time of the zone it is given, DST-aware.
    times = CronSim(expression, moment.replace(microsecond=0).astimezone(zone))
    found: list[datetime] = []
    for time in times:
        if len(found) == count:
            break
        if time.astimezone(UTC) > moment:
            found.append(time)
    return found


def _interval_times(
    interval: Interval, zone: ZoneInfo, moment: datetime, count: int
) -> list[datetime]:
    first = _first_index(interval, zone, moment)
    return [_occurrence(interval, zone, first + k) for k in range(count)]


def _first_index(interval: Interval, zone: ZoneInfo, moment: datetime) -> int:
    """The smallest k whose occurrence falls strictly after `moment` (UTC)."""
    anchor = _localise(interval.start, zone).astimezone(UTC)
    if moment < anchor:
        return 0
    # A whole-day step is not a fixed duration across DST: settle the estimate by looking.
    index = max(0, int((moment - anchor) // interval.step) - 1)
    while _occurrence(interval, zone, index).astimezone(UTC) <= moment:
        index += 1
    return index


def _occurrence(interval: Interval, zone: ZoneInfo, index: int) -> datetime:
    if interval.is_whole_days:
        return _localise(interval.start + index * interval.step, zone)
    anchor = _localise(interval.start, zone).astimezone(UTC)
    return (anchor + index * interval.step).astimezone(zone)


def _localise(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall time in `zone`: a skipped one moves forward by the gap, a repeated one is the
    first occurrence (fold=0), by a round trip through UTC."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
