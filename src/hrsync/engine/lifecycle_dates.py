"""Lifecycle by effective dates: what a person's account should be on one day of the connection's
calendar. Pure: the day comes from the run's clock, converted once by `local_day`.

A date takes effect at 00:00 in the connection's time zone, on the first run after it:

- a pre-hire gets a disabled account `prehire_days` before the start date (none before that);
- the account is enabled on the start date;
- a leaver's account is disabled the day after the end date (the last day is still worked), and
  moved to `leavers_ou` when one is set;
- it is deleted `delete_after_days` after the end date when that is set (never by default);
- a rehire (a new period read from HR) is the same person: the same account is enabled again
  and placed where the mapping puts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from hrsync.domain.person import Employment

DEFAULT_PREHIRE_DAYS = 14


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    """One connection's lifecycle settings (`[connections.KEY.lifecycle]`)."""

    prehire_days: int = DEFAULT_PREHIRE_DAYS
    """A pre-hire's disabled account is made this many days before the start date; 0: on it."""
    delete_after_days: int | None = None
    """A leaver's account is deleted this many days after the last day; None: never."""
    leavers_ou: str | None = None
    """Where a leaver's disabled account is moved (a full DN); None: it stays where it is."""


class Stage(StrEnum):
    UPCOMING = "upcoming"
    """The start date is further away than the pre-hire window: no account yet."""
    PREHIRE = "prehire"
    """Inside the pre-hire window: a disabled account."""
    ACTIVE = "active"
    LEFT = "left"
    """After the last day: a disabled account."""
    EXPIRED = "expired"
    """The retention after the last day has passed: the account is deleted."""


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a person stands on one day, and why, in words for the plan."""

    stage: Stage
    reason: str

    @property
    def is_enabled(self) -> bool:
        return self.stage is Stage.ACTIVE

    @property
    def may_create(self) -> bool:
        """Whether a person without an account gets one today."""
        return self.stage in (Stage.PREHIRE, Stage.ACTIVE)


def standing_on(employment: Employment, day: date, policy: LifecyclePolicy) -> Standing:
    """The person's stage on `day` (a date in the connection's calendar)."""
    start, end = employment.start_date, employment.end_date
    if end is not None and end < day:
        ended = f"employment ended on {end.isoformat()}"
        retention = policy.delete_after_days
        if retention is not None and end + timedelta(days=retention) < day:
            return Standing(Stage.EXPIRED, f"{ended}; kept {retention} days after the last day")
        return Standing(Stage.LEFT, ended)
    if start is not None and day < start:
        starts = f"employment starts on {start.isoformat()}"
        if day < start - timedelta(days=policy.prehire_days):
            return Standing(Stage.UPCOMING, starts)
        return Standing(Stage.PREHIRE, starts)
    return Standing(Stage.ACTIVE, "employment is active")


def local_day(now: datetime, zone: ZoneInfo) -> date:
    """The calendar day in `zone` at the instant `now`. A naive `now` is a wall-clock time in
    `zone` already (how an admin types "as of 2026-12-01")."""
    return (now if now.tzinfo is None else now.astimezone(zone)).date()


def takes_effect_at(day: date, zone: ZoneInfo) -> datetime:
    """The instant a date takes effect: 00:00 of that day in `zone` (as an aware datetime)."""
    return datetime.combine(day, time.min, tzinfo=zone)
