"""Mapping overrides end to end: `[connections.X.mapping]` checked by `config load`, applied by a
run on a real Samba AD DC, and explained by `hrsync mapping test`."""

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
from hrsync.mapping.names import fold_to_ascii
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
MAPPING = """
[connections.ad.mapping]
mail = '''Join("@",
    ToLower(StripSpaces(NormalizeDiacritics(Join(".", [given_name], [family_name])))),
    "corp.example.se")'''
description = 'Join(" / ", [company_name], [title])'
"""


@pytest.fixture
def site(
    samba_dc: SambaDC, admin_directory: DirectoryClient, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    sim = FlexSimulator(
        generate_dataset(count=20, seed=3), credentials=Credentials("acme", "api", "flex-secret")
    )
    sim.start()
    base = f"OU=map{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    env = cli_env(tmp_path, FLEX_PASSWORD="flex-secret", AD_PASSWORD=samba_dc.admin_password)
    toml = tmp_path / "hrsync.toml"
    toml.write_text(config_toml(sim, samba_dc, {"ad": base}) + MAPPING, encoding="utf-8")
    try:
        yield {"env": env, "toml": toml, "base": base, "directory": admin_directory, "sim": sim}
    finally:
        admin_directory.delete(base, with_subtree=True)
        sim.stop()


def hrsync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HRSYNC, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def use_rules(site: dict[str, Any], rules: str, *, on_the_connection: bool = False) -> None:
    """The site's config with `rules` instead of MAPPING; keys of the connection's own table
    (placement) go in it, before its sub-tables. Loaded, and the source imported."""
    toml: Path = site["toml"]
    text = toml.read_text(encoding="utf-8").replace(MAPPING, "" if on_the_connection else rules)
    if on_the_connection:
        text = text.replace("[connections.ad]\n", rules.lstrip(), 1)
    toml.write_text(text, encoding="utf-8")
    assert hrsync(site["env"], "config", "load", str(toml)).returncode == 0, "config"
    assert hrsync(site["env"], "import", "flex").returncode == 0


def first_employee_number(directory: DirectoryClient, site: dict[str, Any]) -> str:
    (_, values), *_ = directory.search(site["base"], "(objectClass=user)", ["employeeID"])
    return str(values["employeeID"][0].decode())


def run_ad(env: dict[str, str]) -> dict[str, Any]:
    done = hrsync(env, "run", "ad", "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_an_override_is_applied_by_a_run_and_explained(site: dict[str, Any]) -> None:
    env = site["env"]
    assert hrsync(env, "config", "load", str(site["toml"])).returncode == 0
    assert hrsync(env, "import", "flex").returncode == 0
    done = hrsync(env, "run", "ad", "--json")
    assert done.returncode == 0, done.stderr
    users = list(
        site["directory"].search(
            site["base"],
            "(objectClass=user)",
            ["mail", "description", "givenName", "sn", "employeeID"],
        )
    )
    assert users
    for _, values in users:
        given, family = (values[a][0].decode() for a in ("givenName", "sn"))
        expected = fold_to_ascii(f"{given}.{family}").lower().replace(" ", "")
        assert values["mail"][0].decode() == f"{expected}@corp.example.se"
        assert " / " in values["description"][0].decode()
    number = users[0][1]["employeeID"][0].decode()
    shown = hrsync(env, "mapping", "test", "ad", number, "--json")
    assert shown.returncode == 0, shown.stderr
    (person,) = [p for p in json.loads(shown.stdout) if p["employee_number"] == number][:1]
    rows = {row["attribute"]: row for row in person["attributes"]}
    assert rows["mail"]["source"] == "override"
    assert rows["mail"]["fields_read"] == ["family_name", "given_name"]
    assert rows["mail"]["value"].endswith("@corp.example.se")
    assert (rows["sn"]["source"], rows["sn"]["rule"]) == ("default", "[family_name]")
    assert hrsync(env, "run", "ad", "--json").returncode == 0
    again = run_ad(env)
    assert again["plan"]["update"] == 0  # the overrides converge: nothing to do twice


def test_a_broken_override_is_refused_by_config_load_with_line_and_column(
    site: dict[str, Any],
) -> None:
    toml: Path = site["toml"]
    toml.write_text(
        toml.read_text().replace("[company_name], [title])", "[company_name], [title]"), "utf-8"
    )
    refused = hrsync(site["env"], "config", "load", str(toml))
    assert refused.returncode != 0
    assert "connections.ad.mapping.description: line 1, column" in refused.stderr


PLACEMENT = """
[connections.ad]
placement = 'Join("/", "Staff", [org.Office], [org.Department])'
"""


def test_placement_creates_the_ous_and_an_org_change_moves_the_account(
    site: dict[str, Any],
) -> None:
    env, directory = site["env"], site["directory"]
    use_rules(site, PLACEMENT, on_the_connection=True)
    first = run_ad(env)
    assert first["failed"] == 0 and first["plan"]["create"] > 0
    users = list(directory.search(site["base"], "(objectClass=user)", ["employeeNumber"]))
    staff = f"OU=Staff,{site['base']}".lower()
    assert all(dn.lower().endswith(staff) and dn.count("OU=") >= 3 for dn, _ in users)
    mover_dn, values = users[0]
    person_id = values["employeeNumber"][0].decode()
    site["sim"].patch_employee(person_id, {"organization": {"Department": "Nya avdelningen"}})
    assert hrsync(env, "import", "flex").returncode == 0
    moved = run_ad(env)
    assert moved["plan"]["move"] == 1 and moved["failed"] == 0
    (now_dn,) = [
        dn
        for dn, v in directory.search(site["base"], "(objectClass=user)", ["employeeNumber"])
        if v["employeeNumber"][0].decode() == person_id
    ]
    assert now_dn.startswith(mover_dn.split(",", 1)[0] + ",OU=Nya avdelningen,OU=")
    # Why is the account in OU=Nya avdelningen? The plan says: the rule and the values it read.
    shown = hrsync(env, "runs", "plan", str(moved["run_id"]), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    people = json.loads(shown.stdout)["people"]
    (move,) = [c for person in people for c in person["changes"] if c["kind"] == "move"]
    (parent,) = move["attributes"]
    assert parent["new"].startswith("OU=Nya avdelningen,OU=")
    assert parent["rule"] == 'Join("/", "Staff", [org.Office], [org.Department])'
    assert parent["rule_source"] == "placement"
    assert parent["fields_read"]["org.Department"] == "Nya avdelningen"
    assert set(parent["fields_read"]) == {"org.Office", "org.Department"}
    text = hrsync(env, "runs", "plan", str(moved["run_id"])).stdout
    assert 'why: placement Join("/", "Staff", [org.Office], [org.Department]) reads' in text
    again = run_ad(env)
    assert again["plan"]["move"] == 0


NAMING = """
[connections.ad.naming]
sam = '''SelectUniqueValue(Join(".", Left([given_name], 3), Left([family_name], 3)),
    Join(".", Left([given_name], 4), Left([family_name], 4)))'''
upn = 'Join("_", [given_name], [family_name])'
"""


def test_naming_rules_name_new_accounts_uniquely_and_a_broken_one_is_refused(
    site: dict[str, Any],
) -> None:
    env, directory = site["env"], site["directory"]
    toml: Path = site["toml"]
    use_rules(site, NAMING)
    assert run_ad(env)["failed"] == 0
    found = directory.search(
        site["base"], "(objectClass=user)", ["sAMAccountName", "userPrincipalName"]
    )
    sams = [v["sAMAccountName"][0].decode() for _, v in found]
    assert sams and all("." in sam and len(sam) <= 20 for sam in sams)
    assert len(set(sams)) == len(sams)
    number = first_employee_number(directory, site)
    shown = json.loads(hrsync(env, "mapping", "test", "ad", number, "--json").stdout)
    rows = {row["attribute"]: row for row in shown[0]["attributes"]}
    assert rows["sAMAccountName"]["source"] == "naming"
    assert rows["sAMAccountName"]["rule"].startswith("SelectUniqueValue(")
    assert rows["userPrincipalName"]["value"].endswith("@example.test")
    assert set(rows["userPrincipalName"]["fields_read"]) == {"given_name", "family_name"}
    toml.write_text(toml.read_text().replace("Left([family_name], 4)))", "Left([family_name], 4))"))
    refused = hrsync(env, "config", "load", str(toml))
    assert refused.returncode != 0 and "connections.ad.naming.sam: line 2, column" in refused.stderr


FAILING = """
[connections.ad.mapping]
title = 'FormatDateTime([given_name], "yyyy-MM-dd", "yyyy")'
"""


def test_a_rule_failing_for_a_person_leaves_the_attribute_and_is_told_on_the_ticket(
    site: dict[str, Any],
) -> None:
    env, directory = site["env"], site["directory"]
    use_rules(site, FAILING)
    done = run_ad(env)
    assert done["failed"] == 0 and done["plan"]["create"] > 0
    assert done["plan"]["manual"] >= done["plan"]["create"]  # one per person the rule fails for
    users = list(directory.search(site["base"], "(objectClass=user)", ["title", "givenName"]))
    assert users and all("title" not in values for _, values in users)
    tickets = json.loads(hrsync(env, "tickets", "list", "--open", "--json").stdout)
    shown = json.loads(hrsync(env, "tickets", "show", str(tickets[0]["id"]), "--json").stdout)
    told = [c["text"] for c in shown["comments"] if "a mapping rule failed" in c["text"]]
    assert len(told) == 1
    assert "- title: " in told[0] and "FormatDateTime" in told[0]
    hrsync(env, "run", "ad", "--json")
    again = json.loads(hrsync(env, "tickets", "show", str(tickets[0]["id"]), "--json").stdout)
    assert [c["text"] for c in again["comments"] if "a mapping rule failed" in c["text"]] == told


SAME_NAME_PLACEMENT = """
[connections.ad]
placement = 'Join("/", "Staff", [org.Department])'
"""


def test_a_move_into_an_ou_holding_the_same_cn_renames_then_moves(site: dict[str, Any]) -> None:
    env, directory, sim = site["env"], site["directory"], site["sim"]
    use_rules(site, SAME_NAME_PLACEMENT, on_the_connection=True)
    assert run_ad(env)["failed"] == 0
    accounts = directory.search(site["base"], "(objectClass=user)", ["employeeNumber"])
    first, second = sorted(values["employeeNumber"][0].decode() for _, values in accounts)[:2]
    for person_id, department in ((first, "Inköp"), (second, "Försäljning")):
        sim.patch_employee(
            person_id,
            {"firstName": "Kim", "lastName": "Lund", "organization": {"Department": department}},
        )
    assert hrsync(env, "import", "flex").returncode == 0
    assert run_ad(env)["failed"] == 0
    sim.patch_employee(second, {"organization": {"Department": "Inköp"}})
    assert hrsync(env, "import", "flex").returncode == 0

    moved = run_ad(env)

    assert moved["failed"] == 0 and moved["plan"]["rename"] == 1 and moved["plan"]["move"] == 1
    found = directory.search(
        f"OU=Inköp,OU=Staff,{site['base']}", "(objectClass=user)", ["cn", "employeeNumber"]
    )
    cns = sorted(values["cn"][0].decode() for _, values in found)
    assert cns[0] == "Kim Lund" and cns[1].startswith("Kim Lund (")
    assert run_ad(env)["plan"]["rename"] == 0
