"""Flex HRM → plan → Active Directory, end to end, through the `hrsync` command line.

Real parts only: the Flex HRM simulator over HTTP, a Samba AD DC over LDAPS with certificate
verification, SQLite in a throwaway HRSYNC_HOME. The steps build on each other, in order.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.plans import NOTHING
from tests.servers import database_url
from tests.sites import cli_env

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
PEOPLE = 1000


@dataclass
class Flow:
    sim: FlexSimulator
    dataset: dict[str, Any]
    env: dict[str, str]
    home: Path
    directory: DirectoryClient
    base_dn: str

    def hrsync(self, *args: str) -> dict[str, Any]:
        done = subprocess.run(
            [HRSYNC, *args, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def users(self, base: str | None = None) -> list[dict[str, list[bytes]]]:
        found = self.directory.search(
            base or self.base_dn,
            "(objectClass=user)",
            ["employeeID", "employeeNumber", "userAccountControl", "manager"],
        )
        return [values for _, values in found]


def config_toml(sim: FlexSimulator, dc: SambaDC, bases: dict[str, str]) -> str:
    lines = [
        "[sources.flex]",
        'type = "flexhrm"',
        f'url = "{sim.url}"',
        'instance = "acme"',
        'username = "api"',
        'password_env = "FLEX_PASSWORD"',
    ]
    for key, base in bases.items():
        lines += [
            f"[connections.{key}]",
            'source = "flex"',
            'type = "active_directory"',
            f'url = "{dc.url}"',
            f'ca_file = "{dc.ca_file}"',
            f'bind_dn = "{dc.bind_dn}"',
            'password_env = "AD_PASSWORD"',
            f'base_dn = "{base}"',
            f'users_ou = "OU=People,{base}"',
            f'upn_suffix = "{dc.realm.lower()}"',
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def flow(
    request: pytest.FixtureRequest,
    samba_dc: SambaDC,
    admin_directory: DirectoryClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Flow]:
    """The whole flow once on the default SQLite store and once on PostgreSQL."""
    with database_url(request.param) as url:
        yield from _flow(samba_dc, admin_directory, tmp_path_factory, url)


def _flow(
    samba_dc: SambaDC,
    directory: DirectoryClient,
    tmp_path_factory: pytest.TempPathFactory,
    url: str | None,
) -> Iterator[Flow]:
    dataset = generate_dataset(count=PEOPLE, seed=11)
    sim = FlexSimulator(dataset, credentials=Credentials("acme", "api", "flex-secret"))
    sim.start()
    tag = uuid.uuid4().hex[:8]
    bases = {"ad": f"OU=flow{tag},{samba_dc.base_dn}", "ad2": f"OU=kill{tag},{samba_dc.base_dn}"}
    for base in bases.values():
        directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    home = tmp_path_factory.mktemp("home")
    (home / "flow.toml").write_text(config_toml(sim, samba_dc, bases), encoding="utf-8")
    env = cli_env(home, url, FLEX_PASSWORD="flex-secret", AD_PASSWORD=samba_dc.admin_password)
    subprocess.run([HRSYNC, "config", "load", str(home / "flow.toml")], env=env, check=True)
    try:
        yield Flow(sim, dataset, env, home, directory, bases["ad"])
    finally:
        for base in bases.values():
            directory.delete(base, with_subtree=True)
        sim.stop()


def still_employed(dataset: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Employees with a period that has not ended and has started, or starts within the default
    pre-hire window of 14 days: those who should have an account."""

    def is_open(period: dict[str, Any]) -> bool:
        has_begun = date.fromisoformat(period["fromDate"][:10]) <= today + timedelta(days=14)
        return has_begun and (
            not period["toDate"] or date.fromisoformat(period["toDate"][:10]) >= today
        )

    return [e for e in dataset["employees"] if any(map(is_open, e["employmentPeriods"]))]


def test_a_thousand_people_load(flow: Flow) -> None:
    imported = flow.hrsync("import", "flex")
    assert imported == {
        "fetched": PEOPLE,
        "new": PEOPLE,
        "changed": 0,
        "unchanged": 0,
        "invalid": 0,
    }
    expected = len(still_employed(flow.dataset, date.today()))
    run = flow.hrsync("run", "ad")
    assert run["plan"]["create"] == expected
    assert (run["applied"], run["failed"], run["held"]) == (expected, 0, 0)
    users = flow.users()
    assert len(users) == expected
    assert sum(1 for u in users if u.get("manager")) > expected * 0.9


def test_a_second_run_plans_nothing(flow: Flow) -> None:
    assert flow.hrsync("import", "flex")["changed"] == 0
    run = flow.hrsync("run", "ad")
    assert run["plan"] == NOTHING
    assert (run["applied"], run["failed"]) == (0, 0)


def test_ten_hr_edits_make_exactly_ten_updates(flow: Flow) -> None:
    active = still_employed(flow.dataset, date.today())
    for number, employee in enumerate(active[:10]):
        flow.sim.patch_employee(employee["id"], {"phone1": f"+46 8 555 01{number:02d}"})
    assert flow.hrsync("import", "flex")["changed"] == 10
    run = flow.hrsync("run", "ad")
    assert run["plan"] == NOTHING | {"update": 10}
    assert (run["applied"], run["failed"]) == (10, 0)


def test_five_ended_employments_disable_five_accounts(flow: Flow) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    managers = {e["immediateManagerEmployeeId"] for e in flow.dataset["employees"]}
    # Leavers who manage nobody: a report whose manager never had an account is a manual step.
    leaving = [e for e in still_employed(flow.dataset, date.today()) if e["id"] not in managers][:5]
    for employee in leaving:
        current = sorted(employee["employmentPeriods"], key=lambda p: p["fromDate"])[-1]
        flow.sim.patch_employee(
            employee["id"],
            {"employmentPeriods": [current | {"fromDate": "2020-01-01", "toDate": yesterday}]},
        )
    assert flow.hrsync("import", "flex")["changed"] == 5
    run = flow.hrsync("run", "ad")
    assert run["plan"] == NOTHING | {"disable": 5}
    disabled = [u for u in flow.users() if int(u["userAccountControl"][0]) & 2]
    numbers = {e["employment"][0]["employmentNumber"] for e in leaving}
    assert numbers <= {u["employeeID"][0].decode() for u in disabled}
    assert flow.hrsync("run", "ad")["plan"] == NOTHING


def test_a_run_killed_mid_apply_converges_without_duplicates(flow: Flow) -> None:
    base = flow.base_dn.replace("OU=flow", "OU=kill", 1)
    flow.hrsync("import", "flex")  # the store is filled even when this test runs alone
    process = subprocess.Popen(
        [HRSYNC, "run", "ad2", "--json"],
        env=flow.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while len(flow.users(base)) < 100:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    created_before = len(flow.users(base))
    resumed = flow.hrsync("run", "ad2")
    assert resumed["failed"] == 0
    users = flow.users(base)
    # employeeNumber holds the Flex person id (employee numbers repeat across companies).
    owners = Counter(u["employeeNumber"][0] for u in users)
    assert owners.most_common(1)[0][1] == 1, "a person got two accounts"
    assert len(users) == created_before + resumed["plan"]["create"]
    assert flow.hrsync("run", "ad2")["plan"] == NOTHING


def test_an_invalid_record_is_set_aside_and_the_rest_goes_on(flow: Flow) -> None:
    template = still_employed(flow.dataset, date.today())[40]
    template = {k: v for k, v in template.items() if k != "modified"}  # new: modified now
    flow.sim.add_employee(
        template
        | {
            "id": str(uuid.uuid4()),
            "firstName": "\u0000 ",
            "employment": [{"employmentNumber": "990001"}],
            "employmentPeriods": [
                p | {"id": str(uuid.uuid4())} for p in template["employmentPeriods"]
            ],
        }
    )
    flow.sim.patch_employee(
        still_employed(flow.dataset, date.today())[41]["id"], {"city": "Kiruna"}
    )
    imported = flow.hrsync("import", "flex")
    assert (imported["invalid"], imported["changed"]) == (1, 1)
    (record,) = flow.hrsync("invalid", "flex")
    assert "990001" in record["source_ref"] and "firstName" in record["reason"]
