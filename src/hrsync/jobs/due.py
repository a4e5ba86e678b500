"""When a schedule is due: the one slot to run now and the next slot, from pure arithmetic.

A slot is an aware instant a schedule names. Given the last slot already handled and the time now,
`due_slot` returns the latest slot in (last, now] — after downtime the missed slots collapse into
one run, not one per slot — and the first slot after now. Cron is stepped by cronsim through the
zone's wall time, so daylight saving neither skips nor doubles a run: a 02:30 job runs at 03:00 on
the spring day that has no 02:30, and once (at the first 02:30) on the autumn day that has two.
Intervals ("every 15m from 2026-01-01T06:00") fall on start + k * step, never drifting.

This mirrors the schedule forms of hrsync.app.schedules, which validates the text an admin types;
it is kept here, free of Django, because import-linter keeps hrsync.jobs and hrsync.app apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim

ON_CHANGE = "on-change"
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_INTERVAL = re.compile(
    r"^every\s+(?P<count>\d{1,5})\s*(?P<unit>[mhd])\s+from\s+"
    r"(?P<start>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Due:
    """`slot`: the slot to run now (None: nothing due); `next_slot`: the first slot after now."""

    slot: datetime | None
    next_slot: datetime | None


def is_clocked(schedule: str) -> bool:
    """Whether the schedule runs by the clock (not empty, not on-change)."""
    cleaned = schedule.strip().lower()
    return bool(cleaned) and cleaned != ON_CHANGE


def due_slot(schedule: str, zone_name: str, last_slot: datetime | None, now: datetime) -> Due:
    """The latest slot in (last_slot, now] and the first slot after now, both in UTC.

    With no last slot nothing is due yet: the schedule starts counting from now."""
    zone = ZoneInfo(zone_name)
    moment = now.astimezone(UTC)
    cleaned = " ".join(schedule.split())
    found = _INTERVAL.match(cleaned)
    latest: datetime | None
    following: datetime | None
    if found is not None:
        start = datetime.fromisoformat(found["start"].replace(" ", "T"))
        step = int(found["count"]) * _UNITS[found["unit"].lower()]
        latest = _interval_at_or_before(start, step, zone, moment)
        following = _interval_after(start, step, zone, moment)
    else:
        latest = _cron_at_or_before(cleaned, zone, moment)
        following = _cron_after(cleaned, zone, moment)
    is_due = latest is not None and last_slot is not None and latest > last_slot
    return Due(latest if is_due else None, following)


def _cron_at_or_before(expression: str, zone: ZoneInfo, moment: datetime) -> datetime | None:
    # Reverse from a minute past `moment`: cronsim's reverse walk may start strictly before it.
    start = (moment.replace(second=0, microsecond=0) + timedelta(minutes=1)).astimezone(zone)
    for time in CronSim(expression, start, reverse=True):
        if time.astimezone(UTC) <= moment:
            return time.astimezone(UTC)
    return None


def _cron_after(expression: str, zone: ZoneInfo, moment: datetime) -> datetime | None:
    start = moment.replace(microsecond=0).astimezone(zone)
    for time in CronSim(expression, start):
        if time.astimezone(UTC) > moment:
            return time.astimezone(UTC)
    return None


def _interval_at_or_before(
    start: datetime, step: timedelta, zone: ZoneInfo, moment: datetime
) -> datetime | None:
    index = _first_after(start, step, zone, moment) - 1
    return _occurrence(start, step, zone, index) if index >= 0 else None


def _interval_after(start: datetime, step: timedelta, zone: ZoneInfo, moment: datetime) -> datetime:
    return _occurrence(start, step, zone, _first_after(start, step, zone, moment))


def _first_after(start: datetime, step: timedelta, zone: ZoneInfo, moment: datetime) -> int:
    """The smallest k whose occurrence falls strictly after `moment`."""
    anchor = _occurrence(start, step, zone, 0)
    if moment < anchor:
        return 0
    # Whole-day steps are not fixed durations across DST: settle the estimate by looking.
    index = max(0, int((moment - anchor) // step) - 1)
    while _occurrence(start, step, zone, index) <= moment:
        index += 1
    return index


def _occurrence(start: datetime, step: timedelta, zone: ZoneInfo, index: int) -> datetime:
    """Slot k in UTC. Whole days keep the start's wall time; shorter steps are real durations."""
    if step % timedelta(days=1) == timedelta(0):
        return _localise(start + index * step, zone)
    return _localise(start, zone) + index * step


def _localise(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall time in `zone` as UTC: a skipped one moves on by the gap, a repeated one is the
    first occurrence (fold=0)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
