"""Groups from organisation levels through whole runs: the Flex HRM simulator over HTTP, imported
into the person store, provisioned into a real Samba AD DC. Three levels, "Finance" under two
offices, a department renamed in HR, a team emptied and retired after the grace period (the run's
clock is run_connection(now=…)), the safety gate's group thresholds, and the config loader's
checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.sites import flex_simulator, stored_site, throwaway_ou

from hrsync.app.config_errors import ConfigError
from hrsync.app.config_file import load_config
from hrsync.app.connection_settings.wiring import directory_groups
from hrsync.app.imports.source_import import import_source
from hrsync.app.models import AuditEvent, Connection, PersonnelChange
from hrsync.app.runs.connection_run import RunSummary, run_connection
from hrsync.app.runs.plan_diff import plan_diff
from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.connectors.active_directory.group_naming import DirectoryGroupNaming
from hrsync.engine.groups import GroupPolicy
from hrsync.engine.lifecycle_dates import takes_effect_at
from hrsync.simulators.flexhrm import FlexSimulator
from hrsync.testing.samba import SambaDC

pytestmark = pytest.mark.samba
STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = datetime.now(STOCKHOLM).date()
LEVELS = ["Office", "Department", "Team"]
GRACE_DAYS = 7
GROUP_FILTER = "(&(objectClass=group)(adminDescription=hrsync-group:*))"


@dataclass
class Hr:
    sim: FlexSimulator
    dataset: dict[str, Any]

    def hire(self, first: str, number: str, organization: dict[str, str]) -> str:
        company = self.dataset["companies"][0]["id"]
        kind = next(t["id"] for t in self.dataset["employmentTypes"] if t["companyId"] == company)
        person_id = str(uuid.uuid4())
        self.sim.add_employee(
            {
                "id": person_id,
                "companyId": company,
                "firstName": first,
                "lastName": "Gruppsson",
                "employment": [{"employmentNumber": number}],
                "employmentPeriods": [
                    {
                        "id": str(uuid.uuid4()),
                        "fromDate": "2020-01-01",
                        "toDate": None,
                        "titleId": None,
                        "employmentTypeId": kind,
                    }
                ],
                "organization": organization,
            }
        )
        return person_id


@dataclass
class Directory:
    client: DirectoryClient
    base: str

    def groups(self) -> dict[str, tuple[bytes, set[str]]]:
        """CN → (objectGUID, the CNs of its members) of hrsync's groups."""
        found = self.client.search(self.base, GROUP_FILTER, ["cn", "member", "objectGUID"])
        return {
            values["cn"][0].decode(): (
                values["objectGUID"][0],
                {m.decode().split(",", 1)[0][3:] for m in values.get("member", [])},
            )
            for _, values in found
        }

    def members(self) -> dict[str, set[str]]:
        return {cn: members for cn, (_, members) in self.groups().items()}


@pytest.fixture
def hr() -> Iterator[Hr]:
    with flex_simulator(count=0, seed=9) as (sim, dataset):
        yield Hr(sim, dataset)


@pytest.fixture
def directory(
    hr: Hr, samba_dc: SambaDC, admin_directory: DirectoryClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Directory]:
    with throwaway_ou(admin_directory, samba_dc, "grp") as base:
        groups = {
            "enabled": True,
            "levels": LEVELS,
            "ou": "OU=Groups",
            "grace_days": GRACE_DAYS,
            "sam_prefix": f"g{uuid.uuid4().hex[:3]}-",
        }
        stored_site(
            hr.sim,
            samba_dc,
            base,
            monkeypatch,
            source={"organization_levels": LEVELS},
            connection={"groups": groups},
        )
        yield Directory(admin_directory, base)


def run_on(day: date) -> RunSummary:
    summary = run_connection("ad", now=takes_effect_at(day, STOCKHOLM) + timedelta(hours=8))
    assert summary.failed == 0, summary
    return summary


def planned(summary: RunSummary) -> dict[str, int]:
    return {kind: count for kind, count in summary.plan.items() if count}


@pytest.mark.django_db(transaction=True)
def test_a_group_hierarchy_of_three_levels_with_a_renamed_department(
    hr: Hr, directory: Directory
) -> None:
    anna = hr.hire("Anna", "7001", {"Office": "Stockholm", "Department": "Finance", "Team": "Lön"})
    hr.hire("Bo", "7002", {"Office": "Stockholm", "Department": "Finance"})
    hr.hire("Cy", "7003", {"Office": "Stockholm", "Department": "IT"})
    hr.hire("Dag", "7004", {"Office": "Göteborg", "Department": "Finance"})
    import_source("flex")

    first = run_on(TODAY)
    assert planned(first) == {"create": 4, "create_group": 6, "add_members": 6}
    before = directory.groups()
    assert directory.members() == {
        "Stockholm": {"Stockholm - Finance", "Stockholm - IT"},
        "Stockholm - Finance": {"Stockholm - Finance - Lön", "Bo Gruppsson"},
        "Stockholm - Finance - Lön": {"Anna Gruppsson"},
        "Stockholm - IT": {"Cy Gruppsson"},
        "Göteborg": {"Göteborg - Finance"},
        "Göteborg - Finance": {"Dag Gruppsson"},
    }
    assert planned(run_on(TODAY)) == {}

    # Finance is renamed in Flex HRM: the same account (unit), so the same groups, renamed,
    # under both offices, with every membership kept.
    hr.sim.rename_account("Department", "Finance", "Ekonomi")
    import_source("flex", full=True)
    kinds = set(PersonnelChange.objects.values_list("kind", flat=True))
    assert "mover" not in kinds  # a renamed unit moves no one
    renamed = run_on(TODAY)
    assert planned(renamed) == {"update": 3, "update_group": 3}  # users' department too
    after = directory.groups()
    guids = {cn.replace("Finance", "Ekonomi"): guid for cn, (guid, _) in before.items()}
    assert {cn: guid for cn, (guid, _) in after.items()} == guids
    assert directory.members() == {
        "Stockholm": {"Stockholm - Ekonomi", "Stockholm - IT"},
        "Stockholm - Ekonomi": {"Stockholm - Ekonomi - Lön", "Bo Gruppsson"},
        "Stockholm - Ekonomi - Lön": {"Anna Gruppsson"},
        "Stockholm - IT": {"Cy Gruppsson"},
        "Göteborg": {"Göteborg - Ekonomi"},
        "Göteborg - Ekonomi": {"Dag Gruppsson"},
    }
    events = AuditEvent.objects.filter(action="change.update_group")
    assert events.count() == 3 and {e.object_type for e in events} == {"group"}
    diff = plan_diff(Connection.objects.get(key="ad").runs.get(pk=renamed.run_id))
    rows = {p.name: p.changes for p in diff.people}
    (change,) = rows["Stockholm - Finance"]
    assert ("cn", "Stockholm - Finance", "Stockholm - Ekonomi") in {
        (a.name, a.old, a.new) for a in change.attributes
    }

    # Anna leaves her team, its only member: emptied and marked, retired after the grace period.
    hr.sim.patch_employee(anna, {"organization": {"Team": None}})
    import_source("flex")
    emptied = run_on(TODAY)
    assert planned(emptied) == {"update_group": 1, "add_members": 1, "remove_members": 1}
    assert directory.members()["Stockholm - Ekonomi - Lön"] == set()
    assert directory.members()["Stockholm - Ekonomi"] == {
        "Stockholm - Ekonomi - Lön",
        "Anna Gruppsson",
        "Bo Gruppsson",
    }
    assert planned(run_on(TODAY + timedelta(days=GRACE_DAYS - 1))) == {}
    retired = run_on(TODAY + timedelta(days=GRACE_DAYS))
    assert planned(retired) == {"retire_group": 1}
    assert "Stockholm - Ekonomi - Lön" not in directory.groups()
    assert planned(run_on(TODAY + timedelta(days=GRACE_DAYS))) == {}


@pytest.mark.django_db(transaction=True)
def test_the_safety_gate_holds_membership_removals_and_retirements(
    hr: Hr, directory: Directory
) -> None:
    anna = hr.hire("Anna", "7101", {"Office": "Stockholm", "Department": "Finance", "Team": "Lön"})
    hr.hire("Bo", "7102", {"Office": "Stockholm", "Department": "Finance"})
    import_source("flex")
    run_on(TODAY)
    connection = Connection.objects.get(key="ad")
    strict = {"percent": 10, "count": 1}
    connection.settings |= {"safety": {"remove_members": strict, "retire_group": strict}}
    connection.save()
    limit = "(held when more than 10 % and at least 1)"

    hr.sim.patch_employee(anna, {"organization": {"Team": None}})
    import_source("flex")
    emptied = run_on(TODAY)
    removed = "1 membership would be removed from hrsync's groups"
    assert (emptied.status, emptied.reasons) == (
        "held",
        [f"{removed}: 50 % of the 2 linked accounts {limit}"],
    )
    assert directory.members()["Stockholm - Finance - Lön"] == {"Anna Gruppsson"}
    forced = run_connection("ad", force=True, now=takes_effect_at(TODAY, STOCKHOLM))
    assert (forced.status, forced.applied) == ("succeeded", 3)

    retired = run_on(TODAY + timedelta(days=GRACE_DAYS))
    reason = f"1 group would be retired: 33.3 % of the 3 groups hrsync keeps {limit}"
    assert (retired.status, retired.reasons) == ("held", [reason])
    assert "Stockholm - Finance - Lön" in directory.groups()
    diff = plan_diff(connection.runs.get(pk=retired.run_id))  # judged on the run's own count
    assert diff.is_held and diff.reasons == (reason,)


@pytest.mark.django_db
def test_the_config_loader_checks_the_groups_table(tmp_path: Path) -> None:
    base = """
[sources.flex]
type = "flexhrm"
url = "https://acme.flexhosting.se/api/"
instance = "acme"
username = "api"
password_env = "FLEX_PW"

[connections.ad]
type = "active_directory"
source = "flex"
url = "ldaps://dc.example.test"
bind_dn = "CN=hrsync,CN=Users,DC=example,DC=test"
password_env = "AD_PW"
base_dn = "DC=example,DC=test"
users_ou = "OU=Staff"
upn_suffix = "example.test"

[connections.ad.groups]
"""
    path = tmp_path / "hrsync.toml"
    path.write_text(base + 'enabled = true\nlevels = ["Office", "Team"]\nou = "OU=Org"\n')
    load_config(path)
    policy = directory_groups(Connection.objects.get(key="ad").settings, "DC=example,DC=test")
    naming = DirectoryGroupNaming("OU=Org,DC=example,DC=test", "global")
    assert policy == GroupPolicy(("Office", "Team"), naming, 30)
    for table, message in [
        ("enabled = true\n", "groups need levels"),
        ('enabled = true\nlevels = ["A"]\n', "groups need levels and an ou"),
        ('enabled = true\nlevels = ["A", "a"]\nou = "OU=X"\n', "a level is named twice"),
        ('levels = ["A"]\nou = "not a dn"\n', "is not a distinguished name"),
        ('scope = "domain local"\n', "connections.ad.groups.scope"),
        ("grace_days = -1\n", "connections.ad.groups.grace_days"),
        ('sam_prefix = "far-too-long-"\n', "connections.ad.groups.sam_prefix"),
        ("colour = 1\n", "connections.ad.groups.colour"),
    ]:
        path.write_text(base + table)
        with pytest.raises(ConfigError, match=message):
            load_config(path)
