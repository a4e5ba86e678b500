"""Diff persons against accounts into an ordered plan. Pure: reads nothing, writes nothing.

The planner never names a kind of target: it asks the connection's policy (hrsync.engine.policy)
for the desired account, for names and refs, and plans moves and renames only where the policy's
profile has the hierarchy and rename capabilities, managers only where it has the manager one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

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
from hrsync.engine.lineage import PARENT, Explainer
from hrsync.engine.policy import AccountPolicy, NameUnavailableError, TakenNames
from hrsync.engine.scope import OutOfScope, ScopePolicy, why_out_of_scope

MANAGER_UNRESOLVED = "manager must be entered manually"
MAPPING_FAILED = "a mapping rule failed for this person"
"""The reason of the manual step listing a person's failed rules (their attributes are left
as they are until the rule or the HR data is mended)."""
NAME_UNAVAILABLE = "the account cannot be named"
"""The reason of the manual step for a person whose new account lacks a unique value it needs
(e.g. a SCIM userName from an e-mail address that is missing or taken)."""
DEFAULT_LIFECYCLE = LifecyclePolicy()
EVERYONE = ScopePolicy()


def plan_changes(
    people: Sequence[Person],
    accounts: Iterable[Account],
    links: Mapping[PersonId, AccountId],
    policy: AccountPolicy,
    today: date,
    *,
    reserved_names: Iterable[tuple[str, str]] = (),
    lifecycle: LifecyclePolicy = DEFAULT_LIFECYCLE,
    scope: ScopePolicy = EVERYONE,
) -> Plan:
    """The changes that make the target match the persons on `today` (a date in the
    connection's calendar), ordered so references resolve.

    `policy` is the target's view of the connection (hrsync.engine.policy). `reserved_names`
    are (attribute, value) pairs of unique names in use outside the accounts read, e.g.
    elsewhere in the domain; new accounts avoid them. `lifecycle` says when accounts are made,
    enabled, disabled and deleted around the employment's dates. Persons outside `scope` get no
    account; an account of theirs linked to the connection or in its containers (users,
    leavers) is disabled, deleted or left alone as the scope says, and any other is left alone
    (it may be another connection's). Everyone is still correlated, so a manager outside the
    scope stays one.
    """
    accounts = list(accounts)
    profile = policy.profile
    index = AccountIndex.of(accounts, policy.owner_attribute, profile.correlation)
    matches = correlate(people, index, links)
    taken = TakenNames.of(accounts, profile)
    taken.reserve(reserved_names)
    explainer = Explainer(policy.derivations())
    builder = _PlanBuilder(policy, taken, today, lifecycle, scope, explainer)
    builder.linked = frozenset(links.values())
    for person in sorted(people, key=lambda p: (p.employee_number, p.person_id)):
        builder.add_person(person, matches[person.person_id])
    builder.resolve_managers({person.person_id: person for person in people})
    return Plan(builder.ordered(), builder.explainer.derivations)


@dataclass(slots=True)
class _Placed:
    """A person's account as it will be after the plan: its ref and its current manager."""

    person: Person
    manager_id: PersonId | None
    """The manager the mapping wants (the person's, unless the target's policy says else);
    the rest of the desired account is not kept, so a plan of 100,000 holds one copy."""
    ref: str
    account_id: AccountId | None
    manager_ref: str | None


@dataclass(slots=True)
class _PlanBuilder:
    policy: AccountPolicy
    taken: TakenNames
    today: date
    lifecycle: LifecyclePolicy
    scope: ScopePolicy
    explainer: Explainer
    linked: frozenset[AccountId] = frozenset()
    """Accounts linked to this connection's persons: its own, wherever a placement put them."""
    placed: dict[PersonId, _Placed] = field(default_factory=dict)
    outside: dict[PersonId, str] = field(default_factory=dict)
    """The refs of accounts of persons outside the scope: managers for reports, never changed."""
    first: list[Change] = field(default_factory=list)
    """Renames and moves: before creates, so new reports can point at a manager's final ref."""
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
            self._retire(person, account, standing.reason)
        else:
            self._diff(person, desired, account, standing, parent_note)
        placed = self.placed.get(person.person_id)
        if desired.problems and placed is not None:
            failed = dict(problem.split(": ", 1) for problem in desired.problems)
            self._manual(person.person_id, placed.ref, MAPPING_FAILED, failed)

    def _retire(self, person: Person, account: Account, reason: str) -> None:
        """Delete where the target can; else disable (a target that cannot delete keeps it)."""
        pid, aid, ref = person.person_id, account.account_id, account.ref
        capabilities = self.policy.profile.capabilities
        if capabilities.delete:
            self.disables.append(DeleteAccount(pid, aid, ref, reason))
        elif account.is_enabled and capabilities.disable:
            self.disables.append(DisableAccount(pid, aid, ref, reason))

    def _out_of_scope(self, person: Person, account: Account, reason: str) -> None:
        pid, aid, ref = person.person_id, account.account_id, account.ref
        action = self.scope.when_out_of_scope
        if action is OutOfScope.LEAVE or not self._is_managed(account):
            self.outside[pid] = ref
        elif action is OutOfScope.DELETE:
            self._retire(person, account, reason)
        else:
            if account.is_enabled and self.policy.profile.capabilities.disable:
                self.disables.append(DisableAccount(pid, aid, ref, reason))
            self.outside[pid] = ref

    def _is_managed(self, account: Account) -> bool:
        """Whether the account is this connection's: linked to one of its persons, or (where
        the target has containers) in one it places accounts in (users, leavers)."""
        if account.account_id in self.linked:
            return True
        if not self.policy.profile.capabilities.hierarchy:
            return False
        homes = (self.policy.home, self.lifecycle.leavers_ou)
        container = self.policy.container_of(account.ref)
        return any(home and self.policy.is_within(container, home) for home in homes)

    def _desire(self, person: Person, standing: Standing) -> tuple[DesiredAccount, str | None]:
        """The mapping's account, enabled and placed as the person's stage says: before the
        pre-hire window and after the last day, in the leavers OU when there is one. With it,
        in words, why the container is not the placement's, when it is not."""
        desired = self.policy.desire(person, self.today)
        if not self.policy.profile.capabilities.hierarchy:
            return dataclasses.replace(desired, is_enabled=standing.is_enabled), None
        parent, note = desired.container, None
        if standing.stage in (Stage.UPCOMING, Stage.LEFT) and self.lifecycle.leavers_ou:
            parent = self.lifecycle.leavers_ou
            note = f"the leavers OU of the lifecycle settings ({standing.reason})"
        elif not parent:
            note = "the placement rule failed for this person: the account stays where it is"
        return (
            dataclasses.replace(desired, is_enabled=standing.is_enabled, container=parent),
            note,
        )

    def _create(
        self, person: Person, desired: DesiredAccount, standing: Standing, parent_note: str | None
    ) -> None:
        profile = self.policy.profile
        parent = desired.container or self.policy.home  # placement failed: the home container
        if profile.capabilities.hierarchy and not desired.container:
            parent_note = "the placement rule failed for this person: the connection's users OU"
        try:
            new = self.policy.new_account(person, desired, parent, self.taken, self.today)
        except NameUnavailableError as error:
            self._manual(person.person_id, None, NAME_UNAVAILABLE, {error.attribute: str(error)})
            return
        attributes: Attributes = {k: v for k, v in desired.attributes.items() if v is not None}
        attributes |= new.attributes
        reason = "new in HR" if desired.is_enabled else f"pre-hire: {standing.reason}"
        placed = [PARENT] if profile.capabilities.hierarchy else []
        names = [*attributes, *self._naming(), *placed]
        lineage = self.explainer.lineage(person, names, notes=_notes(parent_note))
        self.creates[person.person_id] = CreateAccount(
            person.person_id,
            person.employee_number,
            new.ref,
            attributes,
            desired.is_enabled,
            reason,
            lineage,
        )
        self.placed[person.person_id] = _Placed(person, desired.manager_id, new.ref, None, None)

    def _diff(
        self,
        person: Person,
        desired: DesiredAccount,
        account: Account,
        standing: Standing,
        parent_note: str | None,
    ) -> None:
        pid, aid = person.person_id, account.account_id
        capabilities = self.policy.profile.capabilities
        ref, name = account.ref, self._name_of(account)
        if capabilities.rename:
            ref, name = self._rename_if_needed(person, desired, account)
        if capabilities.hierarchy:
            parent = desired.container or self.policy.container_of(ref)  # placement failed
            if self._key(self.policy.container_of(ref)) != self._key(parent):
                ref = self._move(
                    person,
                    desired,
                    account,
                    (ref, name),
                    parent=parent,
                    standing=standing,
                    parent_note=parent_note,
                )
        before, after = _differing(desired.attributes, account.attributes)
        if name != self._name_of(account):
            followed = self.policy.on_rename(person, account, self.taken, self.today)
            before |= followed[0]
            after |= followed[1]
        if after:
            lineage = self.explainer.lineage(person, after)
            self.updates.append(
                UpdateAttributes(pid, aid, ref, before, after, "HR data changed", lineage)
            )
        if desired.is_enabled and not account.is_enabled:
            self.updates.append(EnableAccount(pid, aid, ref, standing.reason))
        elif not desired.is_enabled and account.is_enabled and capabilities.disable:
            self.disables.append(DisableAccount(pid, aid, ref, standing.reason))
        manager = account.attributes.get(self.policy.profile.manager_attribute)
        self.placed[pid] = _Placed(person, desired.manager_id, ref, aid, manager)

    def _key(self, ref: str) -> str:
        return self.policy.profile.ref_key(ref)

    def _naming(self) -> list[str]:
        naming = self.policy.profile.naming_attribute
        return [naming] if naming else []

    def _name_of(self, account: Account) -> str:
        naming = self.policy.profile.naming_attribute
        return (account.attributes.get(naming) or "") if naming else ""

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
        """Move the account under `parent`; when an account there has its name, first rename
        it (in its current container) to a name free in both. The ref it ends with."""
        ref, name = named
        policy = self.policy
        current = policy.container_of(ref)
        self.taken.named.discard((self._key(current), name.casefold()))
        if (self._key(parent), name.casefold()) in self.taken.named:
            name = policy.choose_name(desired, parent, self.taken, passing_through=current)
            renamed = policy.ref_in(name, current)
            self.first.append(
                RenameAccount(
                    person.person_id,
                    account.account_id,
                    ref,
                    name,
                    "the name is taken in the OU the account moves to",
                    self.explainer.lineage(person, self._naming()),
                    new_ref=renamed,
                )
            )
            ref = renamed
        else:
            self.taken.named.add((self._key(parent), name.casefold()))
        reason = self._move_reason(current, parent, standing)
        lineage = self.explainer.lineage(person, [PARENT], notes=_notes(parent_note))
        moved = policy.ref_in(name, parent)
        self.first.append(
            MoveAccount(
                person.person_id, account.account_id, ref, parent, reason, lineage, new_ref=moved
            )
        )
        return moved

    def _move_reason(self, current: str, wanted: str, standing: Standing) -> str:
        leavers = self._key(self.lifecycle.leavers_ou or "")
        if leavers and self._key(wanted) == leavers:
            return f"{standing.reason}: moved to the leavers OU"
        if leavers and self._key(current) == leavers:
            return f"{standing.reason}: moved back from the leavers OU"
        return "placement changed"

    def _rename_if_needed(
        self, person: Person, desired: DesiredAccount, account: Account
    ) -> tuple[str, str]:
        """(ref, name) of the account after a rename its name asks for, if any."""
        policy = self.policy
        current = self._name_of(account)
        if policy.keeps_name(current, desired):
            return account.ref, current
        parent = policy.container_of(account.ref)
        self.taken.named.discard((self._key(parent), current.casefold()))
        new_name = policy.choose_name(desired, parent, self.taken)
        new_ref = policy.ref_in(new_name, parent)
        self.first.append(
            RenameAccount(
                person.person_id,
                account.account_id,
                account.ref,
                new_name,
                "name changed",
                self.explainer.lineage(person, self._naming()),
                new_ref=new_ref,
            )
        )
        return new_ref, new_name

    def resolve_managers(self, people: Mapping[PersonId, Person]) -> None:
        """Point every account at its manager's final ref, or ask for a manual step; nothing
        for targets without the manager capability."""
        profile = self.policy.profile
        if not profile.capabilities.manager:
            return
        attribute = profile.manager_attribute
        for pid, placed in sorted(self.placed.items()):
            is_resolved, wanted = self._manager_ref(pid, placed, people)
            if not is_resolved:
                continue
            create = self.creates.get(pid)
            if create is not None:
                if wanted is not None:
                    create.attributes[attribute] = wanted
                    create.lineage.values.update(
                        self.explainer.lineage(placed.person, [attribute]).values
                    )
            elif self._key(placed.manager_ref or "") != self._key(wanted or ""):
                self.managers.append(
                    SetManager(
                        pid,
                        placed.account_id,
                        placed.ref,
                        placed.manager_ref,
                        wanted,
                        "manager changed in HR",
                        self.explainer.lineage(placed.person, [attribute]),
                    )
                )

    def _manager_ref(
        self, pid: PersonId, placed: _Placed, people: Mapping[PersonId, Person]
    ) -> tuple[bool, str | None]:
        """(resolved?, the manager's ref); an unresolved manager becomes a manual step."""
        manager_id = placed.manager_id
        if manager_id is None:
            return True, None
        if manager_id == pid:
            self._manual(pid, placed.ref, "the person is their own manager in HR data", {})
            return False, None
        if manager_id in self.placed:
            return True, self.placed[manager_id].ref
        if manager_id in self.outside:
            return True, self.outside[manager_id]
        manager = people.get(manager_id)
        detail: dict[str, str] = {"manager_id": manager_id}
        if manager is not None:
            detail |= {
                "manager_name": manager.display_name,
                "manager_employee_number": manager.employee_number,
            }
        self._manual(pid, placed.ref, MANAGER_UNRESOLVED, detail)
        return False, None

    def _manual(self, pid: PersonId, ref: str | None, reason: str, detail: dict[str, str]) -> None:
        self.manual.append(ManualStep(pid, ref, reason, detail))

    def ordered(self) -> tuple[Change, ...]:
        cycles: list[PersonId] = []
        profile = self.policy.profile
        creates = _managers_first(self.creates, cycles, profile.manager_attribute, self._key)
        for pid in cycles:
            self._manual(pid, self.creates[pid].ref, "manager cycle in HR data", {})
        return (
            *self.first,
            *creates,
            *self.updates,
            *self.managers,
            *self.disables,
            *self.manual,
        )


def _managers_first(
    creates: Mapping[PersonId, CreateAccount],
    cycles: list[PersonId],
    manager_attribute: str,
    ref_key: Callable[[str], str],
) -> list[CreateAccount]:
    """Creates ordered so a manager created in this plan exists before the reports naming them.

    Where HR data has a manager cycle, one member is created without a manager and listed in
    `cycles`, so the planner can report it.
    """
    by_ref = {ref_key(c.ref): pid for pid, c in creates.items()}
    ordered: list[CreateAccount] = []
    state: dict[PersonId, bool] = {}  # False: visiting, True: done
    for pid in sorted(creates):
        chain: list[PersonId] = []
        current: PersonId | None = pid
        while current is not None and current not in state:
            state[current] = False
            chain.append(current)
            manager = creates[current].attributes.get(manager_attribute)
            current = by_ref.get(ref_key(manager)) if manager else None
        if current is not None and state[current] is False:
            # A cycle in HR data: the last of the chain is created first, without its manager.
            creates[chain[-1]].attributes.pop(manager_attribute, None)
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
