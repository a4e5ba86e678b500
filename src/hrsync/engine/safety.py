"""The safety gate: hold a plan that would disable, delete or move more than an admin expects."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.domain.plan import Plan

GUARDED_KINDS = ("disable", "delete", "move")


@dataclass(frozen=True, slots=True)
class SafetyPolicy:
    """Thresholds per guarded kind: an absolute count, and a share of the existing accounts."""

    max_disables: int = 50
    max_deletes: int = 10
    max_moves: int = 200
    max_percent: float = 10.0
    min_population: int = 20
    """Below this many accounts the percentage rule is not applied (small tenants, first loads)."""

    def max_count(self, kind: str) -> int:
        return {"disable": self.max_disables, "delete": self.max_deletes}.get(kind, self.max_moves)


@dataclass(frozen=True, slots=True)
class Verdict:
    reasons: tuple[str, ...]

    @property
    def is_held(self) -> bool:
        return bool(self.reasons)


def judge_plan(plan: Plan, existing_accounts: int, policy: SafetyPolicy) -> Verdict:
    """Hold the plan when any guarded kind exceeds its count or percentage threshold."""
    counts = plan.counts()
    reasons: list[str] = []
    for kind in GUARDED_KINDS:
        count = counts[kind]
        if count > policy.max_count(kind):
            reasons.append(f"{count} {kind}s exceed the limit of {policy.max_count(kind)}")
        elif existing_accounts >= policy.min_population and count:
            share = 100 * count / existing_accounts
            if share > policy.max_percent:
                reasons.append(
                    f"{count} {kind}s are {share:.0f}% of {existing_accounts} accounts "
                    f"(limit {policy.max_percent:g}%)"
                )
    return Verdict(tuple(reasons))
