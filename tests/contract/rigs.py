"""Targets as the contract scenarios drive them: one `Rig` per kind of target, each a target,
the planner's policy for it and its groups, run through the engine exactly as a run does
(plan accounts, plan groups after them, apply, link by the person id written)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from hrsync.domain.account import Account
from hrsync.domain.groups import Group
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.person import Person
from hrsync.domain.plan import Outcome, Plan, Status
from hrsync.engine.accounts_after import accounts_after
from hrsync.engine.apply import apply_changes
from hrsync.engine.groups import GroupPolicy, NamesInUse, plan_groups
from hrsync.engine.lifecycle_dates import LifecyclePolicy
from hrsync.engine.plan import plan_changes
from hrsync.engine.policy import AccountPolicy
from hrsync.ports import Target

GroupReader = Callable[[], tuple[list[Group], frozenset[str]]]


@dataclass
class Rig:
    name: str
    target: Target
    policy: AccountPolicy
    groups: GroupPolicy
    read_groups: GroupReader
    names: dict[str, str]
    """The target's attribute for each thing a scenario checks: family, title, email."""
    make_by_hand: Callable[[str, str, str], None]
    """Make an account as an admin would, without hrsync's person id: (given, family, email)."""
    lifecycle: LifecyclePolicy = field(default_factory=LifecyclePolicy)
    links: dict[PersonId, AccountId] = field(default_factory=dict)
    is_own: Callable[[Account], bool] = lambda account: True
    """Whether an account is the test's (AD reads the whole domain, Administrator included)."""
    after_apply: Callable[[], None] = lambda: None
    """What a run does once it has applied its changes (a CSV target delivers its files)."""

    def own_accounts(self) -> list[Account]:
        return [account for account in self.accounts() if self.is_own(account)]

    def value(self, account: Account, what: str) -> str | None:
        return account.attributes.get(self.names[what])

    def group_names(self) -> dict[str, Group]:
        """hrsync's groups by display name."""
        return {g.attributes.get("displayName") or "": g for g in self.read_groups()[0]}

    def members_of(self, group: Group) -> set[str]:
        """The person ids of a group's member accounts."""
        key = self.policy.profile.ref_key
        by_ref = {key(a.ref): a for a in self.accounts()}
        owner = self.policy.owner_attribute
        return {
            by_ref[key(m)].attributes.get(owner) or "" for m in group.members if key(m) in by_ref
        }

    def accounts(self) -> list[Account]:
        return list(self.target.read_accounts())

    def plan(self, people: Sequence[Person], today: date) -> Plan:
        """What a run would do now: the account changes, then the group changes."""
        accounts = self.accounts()
        self._link(accounts, people)
        plan = plan_changes(
            people, accounts, self.links, self.policy, today, lifecycle=self.lifecycle
        )
        groups, names = self.read_groups()
        owner, profile = self.policy.owner_attribute, self.policy.profile
        after = accounts_after(accounts, self.links, plan.changes, owner, profile)
        group_changes = plan_groups(
            people, groups, after, self.groups, today=today, names=NamesInUse(names)
        )
        return Plan((*plan.changes, *group_changes), plan.derivations)

    def apply(self, plan: Plan, *, limit: int | None = None) -> list[Outcome]:
        """Apply the plan (only its first `limit` changes: an apply killed half-way)."""
        changes = plan.changes if limit is None else plan.changes[:limit]
        outcomes = apply_changes(changes, self.target)
        self.after_apply()
        return outcomes

    def sync(self, people: Sequence[Person], today: date) -> tuple[Plan, list[Outcome]]:
        plan = self.plan(people, today)
        outcomes = self.apply(plan)
        failed = [o for o in outcomes if o.status is Status.FAILED]
        assert not failed, failed
        return plan, outcomes

    def _link(self, accounts: Sequence[Account], people: Sequence[Person]) -> None:
        """As a run refreshes its links: every account carrying a known person id."""
        known = {person.person_id for person in people}
        for account in accounts:
            owner = account.attributes.get(self.policy.owner_attribute)
            if owner in known:
                self.links[PersonId(owner)] = account.account_id

    def find(self, person_id: str) -> Account:
        owner = self.policy.owner_attribute
        found = [a for a in self.accounts() if a.attributes.get(owner) == person_id]
        assert len(found) == 1, (person_id, found)
        return found[0]
