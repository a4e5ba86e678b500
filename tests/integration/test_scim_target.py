"""The SCIM target beyond the shared contract (tests/contract): a thousand people and their org
groups, Winningtemp's user extension, the app's refusals on the person's outcome, PUT where the
app has no PATCH, and 429/503 from the app retried without losing a change."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx2
import pytest
from tests.contract.rigs import Rig
from tests.contract.test_target_contract import TODAY, person

from hrsync.connectors.scim.config import ScimConfig
from hrsync.connectors.scim.group_naming import ScimGroupNaming
from hrsync.connectors.scim.patch import MANAGER_PATH
from hrsync.connectors.scim.policy import ScimPolicy
from hrsync.connectors.scim.profile import (
    BIRTHDAY,
    EXCLUDE_FROM_SURVEYS,
    GENDER,
    WINNINGTEMP_USER_URN,
    custom_field_path,
    scim_profile,
)
from hrsync.connectors.scim.target import ScimTarget
from hrsync.domain.changes import CreateAccount, CreateGroup
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Status
from hrsync.engine.groups import GroupPolicy
from hrsync.testing.fault_proxy import FaultProxy
from hrsync.testing.scim import ScimServer, start_scim2_server

QUIRKS = Path(__file__).parent / "scim_quirks"
LEVELS = ("Office", "Department", "Team")


def scim_rig(url: str, token: str, preset: str = "generic") -> Rig:
    config = ScimConfig(url=url, token=token, profile=preset)  # type: ignore[arg-type]
    profile = scim_profile(preset)
    policy = ScimPolicy(profile)
    target = ScimTarget(config, policy)
    return Rig(
        preset,
        target,
        policy,
        GroupPolicy(LEVELS, ScimGroupNaming(profile), grace_days=0),
        target.read_groups,
        {"family": "name.familyName", "title": "title"},
        lambda *_: None,
    )


def company(size: int) -> list[Person]:
    """`size` people in three offices, each with Finance and IT, each with two teams; every
    tenth one manages the nine after."""
    people = []
    for n in range(1, size + 1):
        office = ("Stockholm", "Göteborg", "Malmö")[n % 3]
        department = ("Finance", "IT")[n % 2]
        team = f"Team {n % 4 // 2 + 1}"
        boss = PersonId(f"c{(n - 1) // 10 * 10 + 1:04d}") if n % 10 != 1 else None
        people.append(
            person(
                n,
                "Anna",
                f"Person{n}",
                manager_id=boss,
                organisation=(("Office", office), ("Department", department), ("Team", team)),
            )
        )
    return people


def test_a_thousand_people_and_their_org_groups_load_then_nothing_is_left(
    scim2_server: ScimServer,
) -> None:
    rig = scim_rig(scim2_server.url, scim2_server.token)
    people = company(1000)
    plan, outcomes = rig.sync(people, TODAY)
    counts = plan.counts()
    # 3 offices, 6 departments (two Finance and two IT per office count apart), 12 teams.
    assert (counts["create"], counts["create_group"]) == (1000, 3 + 6 + 12)
    assert all(o.status is Status.APPLIED for o in outcomes)
    assert rig.plan(people, TODAY).is_empty
    finance = [g for g in rig.read_groups()[0] if g.attributes.get("displayName") == "Finance"]
    assert len(finance) == 3
    assert len(rig.accounts()) == 1000


def test_winningtemp_gets_gender_birthday_and_exclude_from_surveys(
    scim2_server: ScimServer,
) -> None:
    rig = scim_rig(scim2_server.url, scim2_server.token, "winningtemp")
    external = dataclasses.replace(
        person(1, "Ext", "Ern", birth_date=date(1990, 5, 17), custom=(("gender", "female"),)),
        employment=Employment("c1", "Acme", "Konsult", "External Personnel", date(2020, 1, 1)),
    )
    rig.sync([external], TODAY)
    user = httpx2.get(
        f"{scim2_server.url}Users",
        headers={"Authorization": f"Bearer {scim2_server.token}"},
    ).json()["Resources"][0]
    extension = user[WINNINGTEMP_USER_URN]
    assert extension == {"gender": "female", "birthday": "1990-05-17", "excludeFromSurveys": True}
    account = rig.find("c0001")
    assert (account.attributes[GENDER], account.attributes[EXCLUDE_FROM_SURVEYS]) == (
        "female",
        "true",
    )
    assert account.attributes[BIRTHDAY] == "1990-05-17"
    assert rig.plan([external], TODAY).is_empty


def test_winningtemp_gets_the_custom_fields_named_in_its_extension(
    scim2_server: ScimServer,
) -> None:
    """`custom_fields = ["costCenter"]`: the HR custom field lands in the user extension as it
    is, a second run plans nothing, and a changed value is one update."""
    config = ScimConfig(url=scim2_server.url, token=scim2_server.token, profile="winningtemp")
    profile = scim_profile("winningtemp")
    policy = ScimPolicy(profile, custom_fields=("costCenter",))
    rig = dataclasses.replace(scim_rig(scim2_server.url, scim2_server.token, "winningtemp"),
                              target=ScimTarget(config, policy), policy=policy)  # fmt: skip
    anna = person(1, "Anna", "Berg", custom=(("costCenter", "4711"),))

    rig.sync([anna], TODAY)
    user = httpx2.get(
        f"{scim2_server.url}Users", headers={"Authorization": f"Bearer {scim2_server.token}"}
    ).json()["Resources"][0]
    assert user[WINNINGTEMP_USER_URN]["costCenter"] == "4711"
    assert rig.plan([anna], TODAY).is_empty

    moved = dataclasses.replace(anna, custom=(("costCenter", "4712"),))
    plan, _ = rig.sync([moved], TODAY)
    assert plan.counts()["update"] == 1
    assert rig.find("c0001").attributes[custom_field_path("costCenter")] == "4712"


def test_custom_fields_need_an_app_with_an_extension_for_them() -> None:
    with pytest.raises(ValueError, match="Winningtemp's user extension"):
        ScimConfig(url="https://app.example/scim", token="t", custom_fields=["costCenter"])
    with pytest.raises(ValueError, match="cannot be a SCIM attribute name"):
        ScimConfig(url="https://a.example/scim", token="t", profile="winningtemp",
                   custom_fields=["cost center"])  # fmt: skip


def test_a_refused_create_is_told_with_the_scim_type_and_the_rest_goes_on(
    scim_server: ScimServer,
) -> None:
    rig = scim_rig(scim_server.url, scim_server.token)
    taken = person(1, "Anna", "Berg")
    rig.sync([taken], TODAY)
    # A second person with the same e-mail: the app's userName uniqueness refuses it, hrsync
    # sees it first and asks for a manual step; a third person is created all the same.
    twin = dataclasses.replace(person(2, "Anna", "Berg"), email=taken.email)
    plan, outcomes = rig.sync([taken, twin, person(3, "Bo", "Ek")], TODAY)
    manual = [o for o in outcomes if o.change.__class__.__name__ == "ManualStep"]
    assert manual and "userName" in (manual[0].change.detail or {})
    assert len(rig.accounts()) == 2
    # The app itself refusing a create (a userName taken behind hrsync's back) fails that
    # change with the app's scimType and detail, and the rest of the run goes on.
    create = next(
        c for c in rig.plan([person(4, "Cy", "Ek")], TODAY).changes if isinstance(c, CreateAccount)
    )
    clash = dataclasses.replace(
        create, attributes=create.attributes | {"userName": taken.email or ""}
    )
    after = CreateAccount(
        create.person_id, create.employee_number, "new-user:x", dict(create.attributes), True, ""
    )
    results = rig.apply(dataclasses.replace(plan, changes=(clash, after)))
    assert results[0].status is Status.FAILED
    assert "409" in (results[0].error or "") and "uniqueness" in (results[0].error or "")
    assert results[1].status is Status.APPLIED


def test_an_app_without_patch_is_updated_by_put_and_settles() -> None:
    server = start_scim2_server(
        service_provider_config=QUIRKS / "no-patch-service-provider-config.json"
    )
    try:
        rig = scim_rig(server.url, server.token)
        assert rig.target.info.supports_patch is False  # type: ignore[attr-defined]
        people = company(6)
        rig.sync(people, TODAY)  # managers are set after their reports' creates: by PUT
        people[1] = dataclasses.replace(people[1], family_name="Lindqvist")
        plan, outcomes = rig.sync(people, TODAY)
        assert plan.counts()["update"] == 1
        assert all(o.status is Status.APPLIED for o in outcomes)
        anna = rig.find("c0002")
        assert anna.attributes["name.familyName"] == "Lindqvist"
        assert anna.attributes["userName"] == people[1].email
        assert rig.plan(people, TODAY).is_empty
    finally:
        server.stop()


def test_429_and_503_from_the_app_are_retried_and_nothing_is_lost(
    scim2_server: ScimServer, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    proxy = fault_proxy(scim2_server.url)
    rig = scim_rig(proxy.url, scim2_server.token)
    people = company(12)
    rig.plan(people, TODAY)  # discovery and the first read go through untouched
    proxy.fail_next(2, status=429, retry_after="0", method="POST")
    proxy.fail_next(2, status=503, method="PATCH")
    plan, outcomes = rig.sync(people, TODAY)
    assert all(o.status is Status.APPLIED for o in outcomes)
    assert {429, 503} <= {r.status for r in proxy.requests}
    assert rig.plan(people, TODAY).is_empty
    assert sum(isinstance(c, CreateGroup) for c in plan.changes) > 0


def test_creates_go_by_bulk_where_the_app_supports_it_and_fail_one_by_one(
    scim2_server: ScimServer, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    """250 joiners in a few /Bulk requests, not 250 POSTs: a batch ends before a report whose
    manager it creates (every tenth person here), so the report gets the manager's real id; a
    userName the app refuses fails that create alone, with its scimType."""
    proxy = fault_proxy(scim2_server.url)
    rig = scim_rig(proxy.url, scim2_server.token)
    people = company(250)
    plan = rig.plan(people, TODAY)
    # Behind hrsync's back, between plan and apply, someone takes a joiner's userName.
    taken = {"userName": people[4].email or ""}
    rig.target.apply(CreateAccount(PersonId("-"), EmployeeNumber("-"), "new", taken, True, ""))
    proxy.reset()

    outcomes = rig.apply(plan)

    bulk = [r for r in proxy.requests if r.method == "POST" and r.path.endswith("/Bulk")]
    single = [r for r in proxy.requests if r.method == "POST" and r.path.endswith("/Users")]
    assert bulk and len(bulk) + len(single) <= 30  # a lone create goes by POST /Users
    failed = [o for o in outcomes if o.status is not Status.APPLIED]
    assert [o.change.person_id for o in failed] == [people[4].person_id]
    assert "409 uniqueness" in (failed[0].error or "")
    assert len(rig.accounts()) == 250  # 249 joiners and the one made by hand
    report = rig.find(people[1].person_id)
    boss = rig.find(people[0].person_id)
    assert report.attributes[MANAGER_PATH] == boss.ref
    # The next run links the refused joiner to the user that took their userName.
    assert rig.plan(people, TODAY).counts()["create"] == 0


HIERARCHY_URN = "urn:example:params:scim:schemas:extension:hierarchy:2.0:Group"


def _server_with_group_parents(workdir: Path) -> ScimServer:
    """scim2-server whose Group has an extension with Winningtemp's "Parent Group External ID"
    (seed 001), as an app with a group hierarchy would declare it."""
    schema = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": HIERARCHY_URN,
        "name": "GroupHierarchy",
        "attributes": [{"name": "parentExternalId", "type": "string", "multiValued": False}],
    }
    group_type = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "schema": "urn:ietf:params:scim:schemas:core:2.0:Group",
        "schemaExtensions": [{"schema": HIERARCHY_URN, "required": False}],
    }
    (workdir / "hierarchy.json").write_text(json.dumps([schema]))
    (workdir / "group.json").write_text(json.dumps(group_type))
    return start_scim2_server(
        extra_schemas=[workdir / "hierarchy.json"],
        extra_resource_types=[workdir / "group.json"],
    )


def test_an_app_whose_groups_have_a_parent_gets_each_units_parent_external_id(
    tmp_path: Path,
) -> None:
    with _server_with_group_parents(tmp_path) as server:
        rig = scim_rig(server.url, server.token)
        target = rig.target
        assert isinstance(target, ScimTarget)
        naming = ScimGroupNaming(rig.policy.profile, parent_path=target.group_parent_path)
        rig = dataclasses.replace(rig, groups=GroupPolicy(LEVELS, naming, grace_days=0))
        people = company(12)
        rig.sync(people, TODAY)
        groups = httpx2.get(
            f"{server.url}Groups", headers={"Authorization": f"Bearer {server.token}"}
        ).json()["Resources"]

        by_external = {g["externalId"]: g for g in groups}
        parents = {
            g["displayName"]: (g.get(HIERARCHY_URN) or {}).get("parentExternalId") for g in groups
        }
        offices = [g for g in groups if g["displayName"] in ("Stockholm", "Göteborg", "Malmö")]
        assert offices and all(parents[g["displayName"]] is None for g in offices)
        for group in groups:
            parent = (group.get(HIERARCHY_URN) or {}).get("parentExternalId")
            if group["displayName"] in ("Finance", "IT", "Team 1", "Team 2"):
                assert parent in by_external, f"{group['displayName']} points at its unit's parent"
        team = next(g for g in groups if g["displayName"] == "Team 1")
        department = by_external[team[HIERARCHY_URN]["parentExternalId"]]
        assert department["displayName"] in ("Finance", "IT")
        assert rig.plan(people, TODAY).is_empty, "a second run plans nothing"


def test_an_app_without_a_parent_attribute_gets_none(scim2_server: ScimServer) -> None:
    rig = scim_rig(scim2_server.url, scim2_server.token)
    target = rig.target
    assert isinstance(target, ScimTarget)
    rig.sync(company(3), TODAY)
    assert target.group_parent_path() is None
    groups = httpx2.get(
        f"{scim2_server.url}Groups", headers={"Authorization": f"Bearer {scim2_server.token}"}
    ).json()["Resources"]
    assert groups and not any(key.startswith("urn:example") for g in groups for key in g)
