"""Diff persons against accounts into an ordered plan. Pure: reads nothing, writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from hrsync.domain.account import Account, Attributes, DesiredAccount
from hrsync.domain.changes import (
    Change,
    CreateAccount,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    ManualStep,
    MoveAccount,
    RenameAccount,
    SetManager,
    UpdateAttributes,
)
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.person import Person
from hrsync.domain.plan import Plan
from hrsync.engine.correlate import AccountIndex, correlate
from hrsync.engine.lifecycle_dates import LifecyclePolicy, Stage, Standing, standing_on
from hrsync.engine.naming import TakenNames, choose_cn, is_cn_for, login_names, upn_for
from hrsync.engine.scope import OutOfScope, ScopePolicy, why_out_of_scope
from hrsync.mapping.active_directory import DirectoryPolicy, desire_ad_account
from hrsync.mapping.ad_rules import day_start
from hrsync.mapping.lineage import CN, MANAGER, PARENT, SAM, UPN, Explainer
from hrsync.mapping.names import escape_dn_value, normalise_dn, parent_of, split_rdns

MANAGER_UNRESOLVED = "manager must be entered manually"
MAPPING_FAILED = "a mapping rule failed for this person"
"""The reason of the manual step listing a person's failed rules (their attributes are left
as they are until the rule or the HR data is mended)."""
DEFAULT_LIFECYCLE = LifecyclePolicy()
EVERYONE = ScopePolicy()


def plan_changes(
    people: Sequence[Person],
    accounts: Iterable[Account],
    links: Mapping[PersonId, AccountId],
    policy: DirectoryPolicy,
    today: date,
    *,
    reserved_names: Iterable[str] = (),
    lifecycle: LifecyclePolicy = DEFAULT_LIFECYCLE,
    scope: ScopePolicy = EVERYONE,
) -> Plan:
    """The changes that make the directory match the persons on `today` (a date in the
    connection's calendar), ordered so references resolve.

    `reserved_names` are login names (sAMAccountName, UPN) in use outside the accounts read,
    e.g. elsewhere in the domain; new accounts avoid them. `lifecycle` says when accounts are
    made, enabled, disabled and deleted around the employment's dates. Persons outside `scope`
    get no account; an account of theirs linked to the connection or in its OUs (users,
    leavers) is disabled, deleted or left alone as the scope says, and any other is left alone
    (it may be another connection's). Everyone is still correlated, so a manager outside the
    scope stays one.
    """
    accounts = list(accounts)
    index = AccountIndex.of(accounts, policy.person_id_attribute)
    matches = correlate(people, index, links)
    taken = TakenNames.of(accounts)
    taken.reserve(reserved_names)
    builder = _PlanBuilder(policy, taken, today, lifecycle, scope, Explainer(policy))
    builder.linked = frozenset(links.values())
    for person in sorted(people, key=lambda p: (p.employee_number, p.person_id)):
        builder.add_person(person, matches[person.person_id])
    builder.resolve_managers({person.person_id: person for person in people})
    return Plan(builder.ordered(), builder.explainer.derivations)


@dataclass(slots=True)
class _Placed:
    """A person's account as it will be after the plan: where it lives and its current manager."""

    person: Person
    desired: DesiredAccount
    dn: str
    account_id: AccountId | None
    manager_dn: str | None


@dataclass(slots=True)
class _PlanBuilder:
    policy: DirectoryPolicy
    taken: TakenNames
    today: date
    lifecycle: LifecyclePolicy
    scope: ScopePolicy
    explainer: Explainer
    linked: frozenset[AccountId] = frozenset()
    """Accounts linked to this connection's persons: its own, wherever a placement put them."""
    placed: dict[PersonId, _Placed] = field(default_factory=dict)
    outside: dict[PersonId, str] = field(default_factory=dict)
    """The DNs of accounts of persons outside the scope: managers for reports, never changed."""
    first: list[Change] = field(default_factory=list)
    """Renames and moves: before creates, so new reports can point at a manager's final DN."""
    creates: dict[PersonId, CreateAccount] = field(default_factory=dict)
    updates: list[Change] = field(default_factory=list)
    managers: list[Change] = field(default_factory=list)
    disables: list[Change] = field(default_factory=list)
    manual: list[Change] = field(default_factory=list)

    def add_person(self, person: Person, account: Account | None) -> None:
        left = why_out_of_scope(person, self.scope)
        if left is not None:
            if account is not None:
                self._out_of_scope(person, account, f"left the scope: {left}")
            return
        standing = standing_on(person.employment, self.today, self.lifecycle)
        desired, parent_note = self._desire(person, standing)
        if account is None:
            if standing.may_create:
                self._create(person, desired, standing, parent_note)
        elif standing.stage is Stage.EXPIRED:
            self.disables.append(
                DeleteAccount(person.person_id, account.account_id, account.dn, standing.reason)
            )
        else:
            self._diff(person, desired, account, standing, parent_note)
        placed = self.placed.get(person.person_id)
        if desired.problems and placed is not None:
            failed = dict(problem.split(": ", 1) for problem in desired.problems)
            self._manual(person.person_id, placed.dn, MAPPING_FAILED, failed)

    def _out_of_scope(self, person: Person, account: Account, reason: str) -> None:
        pid, aid, dn = person.person_id, account.account_id, account.dn
        action = self.scope.when_out_of_scope
        if action is OutOfScope.LEAVE or not self._is_managed(account):
            self.outside[pid] = dn
        elif action is OutOfScope.DELETE:
            self.disables.append(DeleteAccount(pid, aid, dn, reason))
        else:
            if account.is_enabled:
                self.disables.append(DisableAccount(pid, aid, dn, reason))
            self.outside[pid] = dn

    def _is_managed(self, account: Account) -> bool:
        """Whether the account is this connection's: linked to one of its persons, or in an OU
        it places accounts in (users, leavers)."""
        if account.account_id in self.linked:
            return True
        ous = (self.policy.users_ou, self.lifecycle.leavers_ou)
        return any(ou and _is_within(parent_of(account.dn), ou) for ou in ous)

    def _desire(self, person: Person, standing: Standing) -> tuple[DesiredAccount, str | None]:
        """The mapping's account, enabled and placed as the person's stage says: before the
        pre-hire window and after the last day, in the leavers OU when there is one. With it,
        in words, why the OU is not the placement's, when it is not."""
        desired = desire_ad_account(person, self.policy, self.today)
        parent, note = desired.parent_dn, None
        if standing.stage in (Stage.UPCOMING, Stage.LEFT) and self.lifecycle.leavers_ou:
            parent = self.lifecycle.leavers_ou
            note = f"the leavers OU of the lifecycle settings ({standing.reason})"
        elif not parent:
            note = "the placement rule failed for this person: the account stays where it is"
        return (
            dataclasses.replace(desired, is_enabled=standing.is_enabled, parent_dn=parent),
            note,
        )

    def _create(
        self, person: Person, desired: DesiredAccount, standing: Standing, parent_note: str | None
    ) -> None:
        sam, upn = login_names(person, self.policy, self._now(), self.taken)
        parent = desired.parent_dn or self.policy.users_ou  # placement failed: the users OU
        if not desired.parent_dn:
            parent_note = "the placement rule failed for this person: the connection's users OU"
        cn = choose_cn(desired.cn, person.employee_number, parent, self.taken)
        dn = f"CN={escape_dn_value(cn)},{parent}"
        attributes: Attributes = {k: v for k, v in desired.attributes.items() if v is not None}
        attributes |= {SAM: sam, UPN: upn}
        reason = "new in HR" if desired.is_enabled else f"pre-hire: {standing.reason}"
        notes = _notes(parent_note)
        lineage = self.explainer.lineage(person, [*attributes, CN, PARENT], notes=notes)
        self.creates[person.person_id] = CreateAccount(
            person.person_id,
            person.employee_number,
            dn,
            attributes,
            desired.is_enabled,
            reason,
            lineage,
        )
        self.placed[person.person_id] = _Placed(person, desired, dn, None, None)

    def _now(self) -> datetime:
        """What Now() is in this plan's rules: the start of its day in the connection's zone."""
        return day_start(self.today, self.policy.time_zone)

    def _follow_upn(
        self, person: Person, account: Account, before: Attributes, after: Attributes
    ) -> None:
        """A renamed account's UPN made anew from the new name (`upn_on_rename = "follow"`)."""
        current = account.attributes.get(UPN) or ""
        self.taken.upns.discard(current.casefold())
        sam = account.attributes.get(SAM) or person.employee_number
        upn = upn_for(person, self.policy, self._now(), sam, self.taken)
        if upn.casefold() != current.casefold():
            before[UPN], after[UPN] = current or None, upn

    def _diff(
        self,
        person: Person,
        desired: DesiredAccount,
        account: Account,
        standing: Standing,
        parent_note: str | None,
    ) -> None:
        pid, aid = person.person_id, account.account_id
        dn, cn = self._rename_if_needed(person, desired, account)
        parent = desired.parent_dn or parent_of(dn)  # placement failed: it stays put
        if normalise_dn(parent_of(dn)) != normalise_dn(parent):
            dn = self._move(
                person,
                desired,
                account,
                (dn, cn),
                parent=parent,
                standing=standing,
                parent_note=parent_note,
            )
        before, after = _differing(desired.attributes, account.attributes)
        if cn != account.rdn_value and self.policy.upn_follows_rename:
            self._follow_upn(person, account, before, after)
        if after:
            lineage = self.explainer.lineage(person, after)
            self.updates.append(
                UpdateAttributes(pid, aid, dn, before, after, "HR data changed", lineage)
            )
        if desired.is_enabled and not account.is_enabled:
            self.updates.append(EnableAccount(pid, aid, dn, standing.reason))
        elif not desired.is_enabled and account.is_enabled:
            self.disables.append(DisableAccount(pid, aid, dn, standing.reason))
        self.placed[pid] = _Placed(person, desired, dn, aid, account.attributes.get("manager"))

    def _move(
        self,
        person: Person,
        desired: DesiredAccount,
        account: Account,
        named: tuple[str, str],
        *,
        parent: str,
        standing: Standing,
        parent_note: str | None,
    ) -> str:
        """Move the account under `parent`; when an account there has its CN, first rename it
        (in its current OU) to a CN free in both. The DN it ends with."""
        dn, cn = named
        current = parent_of(dn)
        self.taken.release_cn(current, cn)
        if (normalise_dn(parent), cn.casefold()) in self.taken.cns:
            cn = choose_cn(
                desired.cn, person.employee_number, parent, self.taken, passing_through=current
            )
            self.first.append(
                RenameAccount(
                    person.person_id,
                    account.account_id,
                    dn,
                    cn,
                    "the name is taken in the OU the account moves to",
                    self.explainer.lineage(person, [CN]),
                )
            )
            dn = f"CN={escape_dn_value(cn)},{current}"
        else:
            self.taken.cns.add((normalise_dn(parent), cn.casefold()))
        reason = self._move_reason(current, parent, standing)
        lineage = self.explainer.lineage(person, [PARENT], notes=_notes(parent_note))
        self.first.append(
            MoveAccount(person.person_id, account.account_id, dn, parent, reason, lineage)
        )
        return _replace_parent(dn, parent)

    def _move_reason(self, current: str, wanted: str, standing: Standing) -> str:
        leavers = normalise_dn(self.lifecycle.leavers_ou or "")
        if leavers and normalise_dn(wanted) == leavers:
            return f"{standing.reason}: moved to the leavers OU"
        if leavers and normalise_dn(current) == leavers:
            return f"{standing.reason}: moved back from the leavers OU"
        return "placement changed"

    def _rename_if_needed(
        self, person: Person, desired: DesiredAccount, account: Account
    ) -> tuple[str, str]:
        """(DN, CN) of the account after a rename its name asks for, if any."""
        current = account.rdn_value
        if is_cn_for(current, desired.cn, person.employee_number):
            return account.dn, current
        parent = parent_of(account.dn)
        self.taken.release_cn(parent, current)
        new_cn = choose_cn(desired.cn, person.employee_number, parent, self.taken)
        lineage = self.explainer.lineage(person, [CN])
        self.first.append(
            RenameAccount(
                person.person_id, account.account_id, account.dn, new_cn, "name changed", lineage
            )
        )
        return f"CN={escape_dn_value(new_cn)},{parent}", new_cn

    def resolve_managers(self, people: Mapping[PersonId, Person]) -> None:
        """Point every account at its manager's final DN, or ask for a manual step."""
        for pid, placed in sorted(self.placed.items()):
            is_resolved, wanted = self._manager_dn(pid, placed, people)
            if not is_resolved:
                continue
            create = self.creates.get(pid)
            if create is not None:
                if wanted is not None:
                    create.attributes[MANAGER] = wanted
                    create.lineage.values.update(
                        self.explainer.lineage(placed.person, [MANAGER]).values
                    )
            elif normalise_dn(placed.manager_dn or "") != normalise_dn(wanted or ""):
                self.managers.append(
                    SetManager(
                        pid,
                        placed.account_id,
                        placed.dn,
                        placed.manager_dn,
                        wanted,
                        "manager changed in HR",
                        self.explainer.lineage(placed.person, [MANAGER]),
                    )
                )

    def _manager_dn(
        self, pid: PersonId, placed: _Placed, people: Mapping[PersonId, Person]
    ) -> tuple[bool, str | None]:
        """(resolved?, the manager's DN); an unresolved manager becomes a manual step."""
        manager_id = placed.desired.manager_id
        if manager_id is None:
            return True, None
        if manager_id == pid:
            self._manual(pid, placed.dn, "the person is their own manager in HR data", {})
            return False, None
        if manager_id in self.placed:
            return True, self.placed[manager_id].dn
        if manager_id in self.outside:
            return True, self.outside[manager_id]
        manager = people.get(manager_id)
        detail: dict[str, str] = {"manager_id": manager_id}
        if manager is not None:
            detail |= {
                "manager_name": manager.display_name,
                "manager_employee_number": manager.employee_number,
            }
        self._manual(pid, placed.dn, MANAGER_UNRESOLVED, detail)
        return False, None

    def _manual(self, pid: PersonId, dn: str, reason: str, detail: dict[str, str]) -> None:
        self.manual.append(ManualStep(pid, dn, reason, detail))

    def ordered(self) -> tuple[Change, ...]:
        cycles: list[PersonId] = []
        creates = _managers_first(self.creates, cycles)
        for pid in cycles:
            self._manual(pid, self.creates[pid].dn, "manager cycle in HR data", {})
        return (
            *self.first,
            *creates,
            *self.updates,
            *self.managers,
            *self.disables,
            *self.manual,
        )


def _managers_first(
    creates: Mapping[PersonId, CreateAccount], cycles: list[PersonId]
) -> list[CreateAccount]:
    """Creates ordered so a manager created in this plan exists before the reports naming them.

    Where HR data has a manager cycle, one member is created without a manager and listed in
    `cycles`, so the planner can report it.
    """
    by_dn = {normalise_dn(c.dn): pid for pid, c in creates.items()}
    ordered: list[CreateAccount] = []
    state: dict[PersonId, bool] = {}  # False: visiting, True: done
    for pid in sorted(creates):
        chain: list[PersonId] = []
        current: PersonId | None = pid
        while current is not None and current not in state:
            state[current] = False
            chain.append(current)
            manager = creates[current].attributes.get("manager")
            current = by_dn.get(normalise_dn(manager)) if manager else None
        if current is not None and state[current] is False:
            # A cycle in HR data: the last of the chain is created first, without its manager.
            creates[chain[-1]].attributes.pop("manager", None)
            cycles.append(chain[-1])
        for member in reversed(chain):
            state[member] = True
            ordered.append(creates[member])
    return ordered


def _notes(parent_note: str | None) -> dict[str, str] | None:
    return {PARENT: parent_note} if parent_note else None


def _differing(desired: Attributes, current: Attributes) -> tuple[Attributes, Attributes]:
    before: Attributes = {}
    after: Attributes = {}
    for name, value in desired.items():
        if (current.get(name) or None) != value:
            before[name] = current.get(name)
            after[name] = value
    return before, after


def _is_within(dn: str, ancestor: str) -> bool:
    """True when `dn` is `ancestor` or lies below it, comparing RDNs by value."""
    inner = [normalise_dn(rdn) for rdn in split_rdns(dn)]
    outer = [normalise_dn(rdn) for rdn in split_rdns(ancestor)]
    return len(inner) >= len(outer) and inner[len(inner) - len(outer) :] == outer


def _replace_parent(dn: str, parent: str) -> str:
    rdn = dn[: len(dn) - len(parent_of(dn))].rstrip().rstrip(",")
    return f"{rdn},{parent}"
