"""A Microsoft 365 connection as an admin sets it up: a config file naming a Flex HRM source
and a `type = "microsoft365"` connection with a mapping override and groups, `hrsync import`,
`hrsync run --simulate` (nothing written), `hrsync run`, and a second run with nothing to do,
all through the CLI against the Flex HRM simulator and the Graph simulator. The client secret is
named by `client_secret_env`, as the issue's config spells it; `password_env` works as well."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.sites import FLEX_PASSWORD, cli_env, flex_simulator

from hrsync.simulators.graph import App, GraphSimulator

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
APP = App("contoso.onmicrosoft.com", "00000000-0000-0000-0000-00000000abcd", "m365-secret")


@pytest.fixture
def graph() -> Iterator[GraphSimulator]:
    with GraphSimulator(APP) as sim:
        yield sim


def hrsync(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(home, FLEX_PW=FLEX_PASSWORD, M365_SECRET=APP.client_secret)
    return subprocess.run([HRSYNC, *args], env=env, capture_output=True, text=True, check=False)


def config(
    flex_url: str, graph: GraphSimulator, secret: str = 'client_secret_env = "M365_SECRET"'
) -> str:
    return f"""
[sources.flex]
type = "flexhrm"
url = "{flex_url}"
instance = "acme"
username = "api"
password_env = "FLEX_PW"

[connections.m365]
source = "flex"
type = "microsoft365"
tenant_id = "{APP.tenant}"
client_id = "{APP.client_id}"
{secret}
login_url = "{graph.login_url}"
graph_url = "{graph.graph_url}"
upn_suffix = "contoso.example"
usage_location = "SE"

[connections.m365.mapping]
"jobTitle" = "ToUpper([title])"

[connections.m365.groups]
enabled = true
levels = ["Office", "Department"]
"""


def test_flex_to_microsoft_365_from_the_command_line(tmp_path: Path, graph: GraphSimulator) -> None:
    home = tmp_path / "home"
    with flex_simulator(30, seed=5) as (sim, _):
        path = tmp_path / "hrsync.toml"
        path.write_text(config(sim.url, graph))
        for args in (("config", "load", str(path)), ("import", "flex")):
            done = hrsync(home, *args)
            assert done.returncode == 0, done.stderr

        simulated = hrsync(home, "run", "m365", "--simulate", "--json")
        assert simulated.returncode == 0, simulated.stderr
        assert json.loads(simulated.stdout)["plan"]["create"] > 0
        assert graph.store.users == {}  # a simulation writes nothing

        applied = hrsync(home, "run", "m365", "--json")
        assert applied.returncode == 0, applied.stderr
        summary = json.loads(applied.stdout)
        assert summary["failed"] == 0 and summary["applied"] > 0, summary
        users = graph.store.all_users()
        assert users and all(u["userPrincipalName"].endswith("@contoso.example") for u in users)
        assert all(u["usageLocation"] == "SE" for u in users)
        titles = [u["jobTitle"] for u in users if u.get("jobTitle")]
        assert titles and all(title == title.upper() for title in titles)
        groups = graph.api.groups.groups.values()
        assert groups and all("hrsync-group:" in g["description"] for g in groups)
        assert sum(len(m) for m in graph.api.groups.members.values()) >= len(users)

        again = hrsync(home, "run", "m365", "--simulate", "--json")
        assert again.returncode == 0, again.stderr
        assert not any(json.loads(again.stdout)["plan"].values()), again.stdout


def test_the_secret_may_be_named_by_password_env_too(tmp_path: Path, graph: GraphSimulator) -> None:
    home = tmp_path / "home"
    with flex_simulator(3, seed=6) as (sim, _):
        path = tmp_path / "hrsync.toml"
        path.write_text(config(sim.url, graph, 'password_env = "M365_SECRET"'))
        for args in (("config", "load", str(path)), ("import", "flex")):
            done = hrsync(home, *args)
            assert done.returncode == 0, done.stderr
        applied = hrsync(home, "run", "m365", "--json")
        assert applied.returncode == 0, applied.stderr
        assert json.loads(applied.stdout)["failed"] == 0
    assert len(graph.store.users) == 3


def test_a_missing_secret_variable_names_client_secret_env(
    tmp_path: Path, graph: GraphSimulator
) -> None:
    home = tmp_path / "home"
    with flex_simulator(3, seed=6) as (sim, _):
        path = tmp_path / "hrsync.toml"
        path.write_text(config(sim.url, graph, 'client_secret_env = "NO_SUCH_M365_SECRET"'))
        for args in (("config", "load", str(path)), ("import", "flex")):
            done = hrsync(home, *args)
            assert done.returncode == 0, done.stderr
        failed = hrsync(home, "run", "m365", "--json")
    assert failed.returncode != 0
    assert "NO_SUCH_M365_SECRET (client_secret_env) is not set" in failed.stdout + failed.stderr
    assert graph.store.users == {}


def test_a_client_secret_written_in_the_file_is_refused(
    tmp_path: Path, graph: GraphSimulator
) -> None:
    path = tmp_path / "hrsync.toml"
    path.write_text(config("http://127.0.0.1:1/api/", graph, 'client_secret = "in-clear"'))
    done = hrsync(tmp_path / "home", "config", "load", str(path))
    assert done.returncode != 0
    assert "name it: client_secret_env" in done.stderr + done.stdout
