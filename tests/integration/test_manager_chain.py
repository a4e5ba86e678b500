"""Managers on a real Samba AD DC: a chain six deep whose managers arrive in HR after their
reports. The reports are created at once, the first missing manager is a manual step naming
them, and once the managers arrive the next run creates them and sets every manager attribute —
no restart, no HR edit of the reports."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.test_foundation_flow import config_toml
from tests.sites import cli_env

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
DEPTH = 6


@pytest.fixture
def chain(
    samba_dc: SambaDC, admin_directory: DirectoryClient, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    dataset = generate_dataset(count=1, seed=8)
    template = dataset["employees"][0]
    dataset["employees"] = []  # HR starts empty; the chain arrives below
    sim = FlexSimulator(dataset, credentials=Credentials("acme", "api", "flex-secret"))
    sim.start()
    base = f"OU=chain{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    env = cli_env(tmp_path, FLEX_PASSWORD="flex-secret", AD_PASSWORD=samba_dc.admin_password)
    (tmp_path / "hrsync.toml").write_text(config_toml(sim, samba_dc, {"ad": base}), "utf-8")
    ids = [str(uuid.uuid4()) for _ in range(DEPTH)]  # ids[0] is the top manager
    people = [
        {k: v for k, v in template.items() if k != "modified"}
        | {
            "id": ids[level],
            "firstName": f"Chef{level}",
            "lastName": "Kedja",
            "emailWork": f"chef{level}@acme.example",
            "immediateManagerEmployeeId": ids[level - 1] if level else None,
            "employment": [{"employmentNumber": str(7000 + level)}],
            "employmentPeriods": [
                p | {"id": str(uuid.uuid4())} for p in template["employmentPeriods"]
            ],
        }
        for level in range(DEPTH)
    ]
    try:
        yield {"sim": sim, "env": env, "home": tmp_path, "base": base, "people": people}
    finally:
        admin_directory.delete(base, with_subtree=True)
        sim.stop()


def hrsync(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [HRSYNC, *args, "--json"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_chain_of_six_whose_managers_arrive_later_is_linked_on_the_next_run(
    chain: dict[str, Any], admin_directory: DirectoryClient
) -> None:
    env, people = chain["env"], chain["people"]
    subprocess.run(
        [HRSYNC, "config", "load", str(chain["home"] / "hrsync.toml")], env=env, check=True
    )
    for person in people[3:]:  # the three lowest reports first; their managers are not in HR
        chain["sim"].add_employee(person)
    hrsync(env, "import", "flex")
    first = hrsync(env, "run", "ad")
    assert (first["plan"]["create"], first["failed"]) == (3, 0)
    assert first["plan"]["manual"] == 1  # Chef3's manager, Chef2, is not in HR yet
    for person in people[:3]:  # now the managers arrive, top last
        chain["sim"].add_employee(person)
    hrsync(env, "import", "flex")
    second = hrsync(env, "run", "ad")
    assert (second["plan"]["create"], second["failed"]) == (3, 0)
    users = {
        values["employeeID"][0].decode(): (dn, values.get("manager", [b""])[0].decode())
        for dn, values in admin_directory.search(
            chain["base"], "(objectClass=user)", ["employeeID", "manager"]
        )
    }
    for level in range(1, DEPTH):
        own_manager_dn = users[str(7000 + level - 1)][0]
        assert users[str(7000 + level)][1].lower() == own_manager_dn.lower(), level
    assert users["7000"][1] == ""  # the top has no manager
    assert hrsync(env, "run", "ad")["plan"] == dict.fromkeys(first["plan"], 0)
