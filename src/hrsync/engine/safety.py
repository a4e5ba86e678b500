"""The safety gate: hold a plan that would disable, delete, move or rename many accounts, or
empty one attribute on many of them; and an import that lists markedly fewer people than the
last one. Pure: the caller counts the accounts and the people, the gate only judges."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hrsync.domain.changes import Change, SetManager, UpdateAttributes
from hrsync.domain.plan import Plan

GUARDED_KINDS = ("disable", "delete", "move", "rename")
"""Change kinds counted against a threshold of their own; attribute wipes are the fifth."""
PAST_TENSE = {"disable": "disabled", "delete": "deleted", "move": "moved", "rename": "renamed"}


@dataclass(frozen=True, slots=True)
class Threshold:
    """Hold when more than `percent` % of the connection's accounts, and at least `count` of
    them, would be changed one way. Both must hold: the count keeps a small connection from
    being held for a handful of changes, the percentage scales with a large one."""

    percent: float = 5.0
    count: int = 10

    def is_exceeded(self, changed: int, population: int) -> bool:
        """`changed` accounts of `population` (integer arithmetic: no rounding at the edge)."""
        return changed > 0 and changed >= self.count and changed * 100 > self.percent * population


@dataclass(frozen=True, slots=True)
class SafetyPolicy:
    """One threshold per guarded kind, and one for attribute wipes (counted per attribute: an
    attribute that had a value and would be emptied). The defaults are the same for all five:
    each is what a reorganisation gone wrong, an HR export with a column missing or a mapping
    slip looks like, and a rename or a wipe of a tenth of the accounts is as hard to undo as a
    move."""

    disable: Threshold = field(default_factory=Threshold)
    delete: Threshold = field(default_factory=Threshold)
    move: Threshold = field(default_factory=Threshold)
    rename: Threshold = field(default_factory=Threshold)
    wipe: Threshold = field(default_factory=Threshold)

    def threshold(self, kind: str) -> Threshold:
        thresholds = {
            "disable": self.disable,
            "delete": self.delete,
            "move": self.move,
            "rename": self.rename,
            "wipe": self.wipe,
        }
        return thresholds[kind]


@dataclass(frozen=True, slots=True)
class Verdict:
    reasons: tuple[str, ...]

    @property
    def is_held(self) -> bool:
        return bool(self.reasons)


def judge_plan(plan: Plan, existing_accounts: int, policy: SafetyPolicy) -> Verdict:
    """Hold the plan when a guarded kind, or the wipes of one attribute, exceed their threshold
    out of `existing_accounts` (the accounts the connection links). One reason per excess."""
    counts = plan.counts()
    reasons: list[str] = []
    for kind in GUARDED_KINDS:
        threshold = policy.threshold(kind)
        if threshold.is_exceeded(counts[kind], existing_accounts):
            what = f"{_accounts(counts[kind])} would be {PAST_TENSE[kind]}"
            reasons.append(_reason(what, counts[kind], existing_accounts, threshold))
    for name, wiped in sorted(count_wipes(plan.changes).items()):
        if policy.wipe.is_exceeded(wiped, existing_accounts):
            what = f"{name} would be emptied on {_accounts(wiped)}"
            reasons.append(_reason(what, wiped, existing_accounts, policy.wipe))
    return Verdict(tuple(reasons))


def count_wipes(changes: Iterable[Change]) -> Counter[str]:
    """Per attribute, the accounts on which a value would be emptied (set manager included)."""
    wiped: Counter[str] = Counter()
    for change in changes:
        if isinstance(change, UpdateAttributes):
            wiped.update(
                name
                for name, value in change.after.items()
                if not value and change.before.get(name)
            )
        elif isinstance(change, SetManager) and change.before and not change.after:
            wiped["manager"] += 1
    return wiped


def _reason(what: str, changed: int, population: int, threshold: Threshold) -> str:
    share = (
        f"{_percent(100 * changed / population)} % of the {population} linked accounts"
        if population
        else "the connection links no accounts yet"
    )
    limit = f"more than {_percent(threshold.percent)} % and at least {threshold.count}"
    return f"{what}: {share} (held when {limit})"


def _accounts(count: int) -> str:
    return f"{count} account" if count == 1 else f"{count} accounts"


def _percent(value: float) -> str:
    """One decimal at most, so 5.04 % is not shown as a 5 % that exceeds a 5 % limit."""
    return f"{value:.1f}".removesuffix(".0")


# --- the source-shrink guard -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShrinkGuard:
    """Hold an import that lists more than `percent` % fewer people than the last one it is
    compared with, and at least `count` fewer."""

    percent: float = 10.0
    count: int = 10
    is_on: bool = True

    def fewest_accepted(self, previous: int) -> int:
        """The smallest number of people an import may list without being held, after one that
        listed `previous`. Listing more never makes an import shrink, so an importer can stop
        counting (and buffering) once it has seen this many."""
        if not self.is_on:
            return 0
        # The fewest dropped that is a shrink: start just below the bound, step up (is_shrink
        # is the exact rule; floor() of a float product may be off by one either way).
        dropped = max(self.count, 1, math.floor(self.percent * previous / 100) - 1)
        while dropped <= previous and not self.is_shrink(previous - dropped, previous):
            dropped += 1
        return max(previous - dropped + 1, 0)

    def is_shrink(self, listed: int, previous: int) -> bool:
        dropped = previous - listed
        return (
            self.is_on
            and dropped > 0
            and dropped >= self.count
            and dropped * 100 > self.percent * previous
        )


def judge_import(listed: int, previous: int | None, guard: ShrinkGuard) -> str | None:
    """Why an import that listed `listed` people is held, or None. `previous`: what the import
    it is compared with listed (None: there is none, nothing to compare)."""
    if previous is None or not guard.is_shrink(listed, previous):
        return None
    dropped = previous - listed
    return (
        f"the source listed {listed} people, {dropped} fewer than the {previous} of the last "
        f"import ({_percent(100 * dropped / previous)} % fewer; held when more than "
        f"{_percent(guard.percent)} % and at least {guard.count} fewer)"
    )
