"""The safety gate: hold a plan that would disable, delete, move or rename many accounts, empty
one attribute on many of them, retire many of hrsync's groups or remove many memberships; and an
import that lists markedly fewer people than the last one. Pure: the caller counts the accounts,
the groups and the people, the gate only judges."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hrsync.domain.changes import Change, RemoveMembers, SetManager, UpdateAttributes
from hrsync.domain.plan import Plan

GUARDED_KINDS = ("disable", "delete", "move", "rename")
"""Account change kinds counted against a threshold of their own, out of the linked accounts;
attribute wipes, group retirements and membership removals have theirs too."""
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
    """One threshold per guarded kind, one for attribute wipes (counted per attribute: an
    attribute that had a value and would be emptied), one for group retirements (out of the
    groups hrsync keeps) and one for membership removals (each member taken out of one of
    hrsync's groups, out of the linked accounts). The defaults are the same for all seven: each
    is what a reorganisation gone wrong, an HR export with a column missing or a mapping slip
    looks like; a rename or a wipe of a tenth of the accounts is as hard to undo as a move, and a
    retired group is deleted with its SID, so the permissions given to it are lost."""

    disable: Threshold = field(default_factory=Threshold)
    delete: Threshold = field(default_factory=Threshold)
    move: Threshold = field(default_factory=Threshold)
    rename: Threshold = field(default_factory=Threshold)
    wipe: Threshold = field(default_factory=Threshold)
    retire_group: Threshold = field(default_factory=Threshold)
    remove_members: Threshold = field(default_factory=Threshold)

    def threshold(self, kind: str) -> Threshold:
        """The threshold of a guarded kind, by the name of its field; KeyError for another."""
        found = getattr(self, kind, None)
        if not isinstance(found, Threshold):
            raise KeyError(kind)
        return found


@dataclass(frozen=True, slots=True)
class Verdict:
    reasons: tuple[str, ...]

    @property
    def is_held(self) -> bool:
        return bool(self.reasons)


def judge_plan(
    plan: Plan,
    existing_accounts: int,
    policy: SafetyPolicy,
    *,
    managed_groups: int | None = None,
    disable_removes: bool = False,
) -> Verdict:
    """Hold the plan when a guarded kind, the wipes of one attribute, or the memberships removed
    exceed their threshold out of `existing_accounts` (the accounts the connection links), or
    the group retirements out of `managed_groups` (the groups hrsync keeps for the connection).
    One reason per excess. `managed_groups` is None when they were not counted (a run recorded
    before runs kept the count, judged again in its diff): retirements are then held on their
    count alone, so the gate never loosens for want of a count. Where disabling removes the
    account (`disable_removes`: a row left out of a file), disables count as deletes too."""
    counts = plan.counts()
    if disable_removes:
        counts["delete"] += counts["disable"]
    reasons: list[str] = []
    for kind in GUARDED_KINDS:
        threshold = policy.threshold(kind)
        if threshold.is_exceeded(counts[kind], existing_accounts):
            what = f"{_plural(counts[kind], 'account')} would be {PAST_TENSE[kind]}"
            reasons.append(_reason(what, counts[kind], existing_accounts, threshold))
    for name, wiped in sorted(count_wipes(plan.changes).items()):
        if policy.wipe.is_exceeded(wiped, existing_accounts):
            what = f"{name} would be emptied on {_plural(wiped, 'account')}"
            reasons.append(_reason(what, wiped, existing_accounts, policy.wipe))
    reasons += _group_reasons(plan, existing_accounts, managed_groups, policy)
    return Verdict(tuple(reasons))


def _group_reasons(
    plan: Plan, existing_accounts: int, managed_groups: int | None, policy: SafetyPolicy
) -> list[str]:
    reasons: list[str] = []
    removed = count_removed_members(plan.changes)
    if policy.remove_members.is_exceeded(removed, existing_accounts):
        what = f"{_plural(removed, 'membership')} would be removed from hrsync's groups"
        reasons.append(_reason(what, removed, existing_accounts, policy.remove_members))
    retired = plan.counts()["retire_group"]
    if policy.retire_group.is_exceeded(retired, managed_groups or 0):
        what = f"{_plural(retired, 'group')} would be retired"
        share = _share_of_groups(retired, managed_groups)
        reasons.append(f"{what}: {share} ({_limit(policy.retire_group)})")
    return reasons


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


def count_removed_members(changes: Iterable[Change]) -> int:
    """The members (accounts and nested groups) that would be taken out of hrsync's groups."""
    return sum(len(change.members) for change in changes if isinstance(change, RemoveMembers))


def _reason(what: str, changed: int, population: int, threshold: Threshold) -> str:
    share = (
        f"{_percent(100 * changed / population)} % of the {population} linked accounts"
        if population
        else "the connection links no accounts yet"
    )
    return f"{what}: {share} ({_limit(threshold)})"


def _share_of_groups(retired: int, groups: int | None) -> str:
    if groups is None:
        return "the groups hrsync keeps were not counted"
    if not groups:
        return "hrsync keeps no groups for the connection"
    return f"{_percent(100 * retired / groups)} % of the {groups} groups hrsync keeps"


def _limit(threshold: Threshold) -> str:
    return f"held when more than {_percent(threshold.percent)} % and at least {threshold.count}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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
