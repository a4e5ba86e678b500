"""Groups of organisation units on a real Samba AD DC: three levels, nested, filled, a renamed
department, an emptied team retired after the grace period, and the connector's tolerance."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from tests.integration.test_ad_target import raw

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.connectors.active_directory.escaping import dn_key
from hrsync.connectors.active_directory.group_naming import DirectoryGroupNaming
from hrsync.connectors.active_directory.groups import group_type, marker
from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateGroup,
    GroupChange,
    RemoveMembers,
    RetireGroup,
    UpdateGroup,
)
from hrsync.domain.errors import RejectedError
from hrsync.domain.groups import Group
from hrsync.domain.ids import EmployeeNumber, GroupId, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Plan, Status
from hrsync.engine.accounts_after import accounts_after
from hrsync.engine.apply import apply_changes
from hrsync.engine.groups import GroupPolicy, NamesInUse, plan_groups
from hrsync.engine.plan import plan_changes

pytestmark = pytest.mark.samba

TODAY = date(2026, 11, 28)
LEVELS = ("Office", "Department", "Team")
OFFICE, FINANCE, PAYABLE, IT = "o-sthlm", "d-fin", "t-pay", "d-it"


def person(number: int, units: tuple[str, ...], ids: tuple[str, ...]) -> Person:
    return Person(
        person_id=PersonId(f"grp-{number}-{uuid.uuid4().hex[:6]}"),
        employee_number=EmployeeNumber(str(number)),
        given_name="Gun",
        family_name=f"Gruppsson{number}",
        employment=Employment("c1", "Acme", start_date=date(2020, 1, 1)),
        organisation=tuple(zip(LEVELS, units, strict=False)),
        organisation_ids=tuple(zip(LEVELS, ids, strict=False)),
    )


def placed(p: Person, units: tuple[str, ...], ids: tuple[str, ...]) -> Person:
    return dataclasses.replace(
        p,
        organisation=tuple(zip(LEVELS, units, strict=False)),
        organisation_ids=tuple(zip(LEVELS, ids, strict=False)),
    )


@dataclass
class Sync:
    """The engine and the real target, one run at a time."""

    target: ActiveDirectoryTarget
    groups: GroupPolicy

    @property
    def accounts_policy(self) -> DirectoryPolicy:
        config = self.target.config
        return DirectoryPolicy(config.users_ou_dn, config.upn_suffix, config.person_id_attribute)

    def plan(self, people: list[Person], today: date = TODAY) -> Plan:
        policy = self.accounts_policy
        accounts = list(self.target.read_accounts())
        logins = list(self.target.read_reserved_names())
        account_plan = plan_changes(people, accounts, {}, policy, today, reserved_names=logins)
        after = accounts_after(
            accounts, {}, account_plan.changes, policy.person_id_attribute, AD_PROFILE
        )
        groups, other_cns = self.target.read_groups(self.groups.naming.ou)
        names = NamesInUse(other_cns, frozenset(login.casefold() for _, login in logins))
        changes = plan_groups(people, groups, after, self.groups, today=today, names=names)
        return Plan((*account_plan.changes, *changes))

    def run(self, people: list[Person], today: date = TODAY) -> list[Change]:
        plan = self.plan(people, today)
        outcomes = apply_changes(plan.changes, self.target)
        failed = [o for o in outcomes if o.status is not Status.APPLIED]
        assert not failed, failed
        return [c for c in plan.changes if isinstance(c, GroupChange)]

    def read(self) -> dict[str, Group]:
        return {g.name: g for g in self.target.read_groups(self.groups.naming.ou)[0]}

    def members(self, group: Group) -> set[str]:
        """The CNs of the group's members."""
        return {dn.split(",", 1)[0].removeprefix("CN=") for dn in group.members}


@pytest.fixture
def sync(ad_target: ActiveDirectoryTarget) -> Sync:
    """Groups in an OU below the test's users OU (deleted with it afterwards)."""
    ou = f"OU=Org,{ad_target.config.users_ou_dn}"
    prefix = f"t{uuid.uuid4().hex[:3]}-"
    return Sync(
        ad_target, GroupPolicy(LEVELS, DirectoryGroupNaming(ou, sam_prefix=prefix), grace_days=14)
    )


def test_three_levels_with_a_renamed_department_and_a_team_retired_after_the_grace_period(
    sync: Sync,
) -> None:
    anna = person(1, ("Stockholm", "Finance", "Payable"), (OFFICE, FINANCE, PAYABLE))
    bo = person(2, ("Stockholm", "Finance"), (OFFICE, FINANCE))
    cy = person(3, ("Stockholm", "IT"), (OFFICE, IT))
    people = [anna, bo, cy]
    made = sync.run(people)
    assert sum(isinstance(c, CreateGroup) for c in made) == 4
    groups = sync.read()
    assert set(groups) == {
        "Stockholm",
        "Stockholm - Finance",
        "Stockholm - Finance - Payable",
        "Stockholm - IT",
    }
    assert sync.members(groups["Stockholm"]) == {"Stockholm - Finance", "Stockholm - IT"}
    assert sync.members(groups["Stockholm - Finance"]) == {
        "Stockholm - Finance - Payable",
        "Gun Gruppsson2",
    }
    assert sync.members(groups["Stockholm - Finance - Payable"]) == {"Gun Gruppsson1"}
    payable = groups["Stockholm - Finance - Payable"]
    values = raw(sync.target.config, payable.ref, "groupType", "adminDescription", "displayName")
    assert values["groupType"] == [str(group_type("global")).encode()]
    assert values["adminDescription"] == [marker(payable.group_id).encode()]
    assert values["displayName"] == [b"Payable"]
    assert sync.plan(people).is_empty

    # HR renames the department: the same groups, renamed, with the same members.
    guids_before = {g.group_id: guid(sync, g.ref) for g in groups.values()}
    renamed = [
        placed(anna, ("Stockholm", "Ekonomi", "Payable"), (OFFICE, FINANCE, PAYABLE)),
        placed(bo, ("Stockholm", "Ekonomi"), (OFFICE, FINANCE)),
        cy,
    ]
    changes = sync.run(renamed)
    assert {type(c) for c in changes} == {UpdateGroup}
    groups = sync.read()
    assert set(groups) == {
        "Stockholm",
        "Stockholm - Ekonomi",
        "Stockholm - Ekonomi - Payable",
        "Stockholm - IT",
    }
    assert {g.group_id: guid(sync, g.ref) for g in groups.values()} == guids_before
    assert sync.members(groups["Stockholm"]) == {"Stockholm - Ekonomi", "Stockholm - IT"}
    assert sync.members(groups["Stockholm - Ekonomi"]) == {
        "Stockholm - Ekonomi - Payable",
        "Gun Gruppsson2",
    }
    assert sync.members(groups["Stockholm - Ekonomi - Payable"]) == {"Gun Gruppsson1"}
    assert groups["Stockholm - Ekonomi"].attributes["displayName"] == "Ekonomi"
    assert sync.plan(renamed).is_empty

    # Anna leaves the team: it is emptied and marked, kept for the grace period, then retired.
    moved = [placed(renamed[0], ("Stockholm", "Ekonomi"), (OFFICE, FINANCE)), *renamed[1:]]
    sync.run(moved)
    team = sync.read()["Stockholm - Ekonomi - Payable"]
    assert team.empty_since == TODAY
    assert team.members == ()
    assert sync.members(sync.read()["Stockholm - Ekonomi"]) == {
        "Stockholm - Ekonomi - Payable",
        "Gun Gruppsson1",
        "Gun Gruppsson2",
    }
    assert sync.plan(moved, TODAY + timedelta(days=13)).is_empty
    retired = sync.run(moved, TODAY + timedelta(days=14))
    assert [type(c) for c in retired] == [RetireGroup]
    assert "Stockholm - Ekonomi - Payable" not in sync.read()
    assert sync.plan(moved, TODAY + timedelta(days=14)).is_empty


def guid(sync: Sync, dn: str) -> bytes:
    return raw(sync.target.config, dn, "objectGUID")["objectGUID"][0]


def test_members_already_in_or_out_are_no_error_and_a_missing_one_is_named(sync: Sync) -> None:
    people = [person(1, ("Umeå",), ("o-ume",)), person(2, ("Umeå",), ("o-ume",))]
    sync.run(people)
    group = sync.read()["Umeå"]
    first, second = sorted(group.members)
    target = sync.target
    gid = group.group_id
    target.apply(AddMembers(gid, group.ref, (first,), "again"))
    target.apply(RemoveMembers(gid, group.ref, (second,), "out"))
    target.apply(RemoveMembers(gid, group.ref, (second,), "out again"))
    ghost = f"CN=Nobody,{target.config.users_ou_dn}"
    with pytest.raises(RejectedError, match="added 1 of 2 members; CN=Nobody") as failed:
        target.apply(AddMembers(gid, group.ref, (ghost, second), "with a ghost"))
    assert "Nobody" in str(failed.value)
    assert {dn_key(m) for m in sync.read()["Umeå"].members} == {dn_key(first), dn_key(second)}


def test_groups_without_hrsync_marker_are_not_read_not_touched_and_their_names_avoided(
    sync: Sync,
) -> None:
    sync.run([person(1, ("Kiruna",), ("o-kir",))])
    client = DirectoryClient(sync.target.config)
    foreign = f"CN=Luleå,{sync.groups.naming.ou}"
    client.add(
        foreign,
        {
            "objectClass": [b"top", b"group"],
            "sAMAccountName": [f"x{uuid.uuid4().hex[:8]}".encode()],
        },
    )
    client.close()
    assert "Luleå" not in sync.read()
    changes = sync.run([person(1, ("Kiruna",), ("o-kir",)), person(2, ("Luleå",), ("o-lul",))])
    (create,) = [c for c in changes if isinstance(c, CreateGroup)]
    assert create.ref.startswith(f"CN=Luleå ({create.group_id[:6]}),")
    with pytest.raises(RejectedError, match="is not hrsync's group"):
        sync.target.apply(RetireGroup(GroupId(create.group_id), foreign, "not ours"))
    with pytest.raises(RejectedError, match="is not hrsync's group"):
        sync.target.apply(UpdateGroup(create.group_id, foreign, "Ours now", {}, {}, "no"))
    assert raw(sync.target.config, foreign, "cn")["cn"] == ["Luleå".encode()]
