"""A SCIM connection as an admin sets it up from the README: a config file naming a Flex HRM
source and a Winningtemp-style SCIM app, `hrsync import`, `hrsync run --simulate`, `hrsync
run`, a second run with nothing to do, and `hrsync scim check`, all through the CLI against the
Flex HRM simulator and scim2-server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from tests.sites import FLEX_PASSWORD, cli_env, flex_simulator

from hrsync.app.config_errors import ConfigError
from hrsync.app.config_file import load_config
from hrsync.testing.scim import ScimServer

HRSYNC = str(Path(sys.executable).with_name("hrsync"))


def hrsync(home: Path, *args: str, token: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(home, FLEX_PW=FLEX_PASSWORD, WT_SCIM_TOKEN=token)
    return subprocess.run([HRSYNC, *args], env=env, capture_output=True, text=True, check=False)


def config(flex_url: str, scim_url: str) -> str:
    return f"""
[sources.flex]
type = "flexhrm"
url = "{flex_url}"
instance = "acme"
username = "api"
password_env = "FLEX_PW"

[connections.winningtemp]
source = "flex"
type = "scim"
url = "{scim_url}"
token_env = "WT_SCIM_TOKEN"
profile = "winningtemp"

[connections.winningtemp.groups]
enabled = true
levels = ["Office", "Department"]
"""


def test_flex_to_a_scim_app_from_the_command_line(tmp_path: Path, scim2_server: ScimServer) -> None:
    home, token = tmp_path / "home", scim2_server.token
    with flex_simulator(40, seed=7) as (sim, _):
        path = tmp_path / "hrsync.toml"
        path.write_text(config(sim.url, scim2_server.url.rstrip("/")))
        for args in (("config", "load", str(path)), ("import", "flex")):
            done = hrsync(home, *args, token=token)
            assert done.returncode == 0, done.stderr
        checked = hrsync(home, "scim", "check", "winningtemp", token=token)
        assert checked.returncode == 0, checked.stderr
        assert "PATCH yes" in checked.stdout
        assert "urn:ietf:params:scim:schemas:extension:winningtemp:2.0:User" in checked.stdout
        compliance = hrsync(home, "scim", "compliance", "winningtemp", "--json", token=token)
        report = json.loads(compliance.stdout)
        assert report["checks"] and compliance.returncode == (1 if report["counts"].get(
            "error", 0) + report["counts"].get("critical", 0) else 0)  # fmt: skip

        simulated = hrsync(home, "run", "winningtemp", "--simulate", "--json", token=token)
        assert simulated.returncode == 0, simulated.stderr
        planned = json.loads(simulated.stdout)["plan"]
        assert planned["create"] > 0 and planned["create_group"] > 0
        users = httpx2.get(
            f"{scim2_server.url}Users", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert users["totalResults"] == 0  # a simulation writes nothing

        applied = hrsync(home, "run", "winningtemp", "--json", token=token)
        assert applied.returncode == 0, applied.stderr
        summary = json.loads(applied.stdout)
        assert summary["failed"] == 0 and summary["applied"] > 0, summary
        again = json.loads(hrsync(home, "run", "winningtemp", "--json", token=token).stdout)
        assert sum(again["plan"].values()) == 0, again["plan"]

        users = httpx2.get(
            f"{scim2_server.url}Users",
            params={"count": 1000},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert users["totalResults"] == planned["create"]
        assert all(user["externalId"] for user in users["Resources"])
        plan = hrsync(home, "runs", "plan", "1", "--format", "json", token=token)
        assert plan.returncode == 0, plan.stderr
        assert "name.givenName" in plan.stdout


@pytest.mark.django_db
def test_ad_only_tables_are_refused_for_a_scim_app(tmp_path: Path) -> None:
    """`placement` and `naming` belong to targets that have containers and naming rules (AD);
    on a SCIM app they are refused with the reason, not silently ignored."""
    base = config("http://127.0.0.1:9/api/", "https://app.example/scim/v2")
    path = tmp_path / "hrsync.toml"
    for table, message in (
        ('placement = "[company_name]"', "keeps no accounts in containers"),
        ('[connections.winningtemp.naming]\nsam = "[given_name]"', "takes its names from the"),
    ):
        lines = base.replace('profile = "winningtemp"\n', f'profile = "winningtemp"\n{table}\n')
        path.write_text(lines)
        with pytest.raises(ConfigError, match=message):
            load_config(path)
