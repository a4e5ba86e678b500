"""On signing: the employment period to update (the one that starts on the contract's start
date) or to create, with the contract's end date and position."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hrsync.workflows.contracts.fields import field_of, text


@dataclass(frozen=True, slots=True)
class UpdatePeriod:
    period_id: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CreatePeriod:
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NoPeriodChange:
    reason: str


PeriodPlan = UpdatePeriod | CreatePeriod | NoPeriodChange


def plan_period(
    periods: Sequence[Mapping[str, Any]], start: str, end: str, title_id: str | None
) -> PeriodPlan:
    """`start`/`end` YYYY-MM-DD from the contract ('' for none); `title_id` the Flex title
    named by the position (None: the position is not written)."""
    if not start:
        return NoPeriodChange("the contract has no start of employment")
    wanted: dict[str, Any] = {"toDate": end or None}
    if title_id is not None:
        wanted["titleId"] = title_id
    for period in periods:
        if text(field_of(period, "fromDate"))[:10] == start:
            current = {
                "toDate": text(field_of(period, "toDate"))[:10] or None,
                "titleId": field_of(period, "titleId"),
            }
            changed = {k: v for k, v in wanted.items() if current.get(k) != v}
            if not changed:
                return NoPeriodChange(f"the period starting {start} already matches")
            return UpdatePeriod(str(field_of(period, "id")), changed)
    return CreatePeriod({"fromDate": start, **wanted})
