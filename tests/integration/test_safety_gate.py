"""The safety gate through the `hrsync` command line: an HR restructure moving 30 % of the
people to another department (placed in OUs by department) is held, approved with `hrsync runs
approve` and applied exactly as held, skipping what an admin changed in AD meanwhile; a held
plan is rejected; a full import that lists far fewer people is held by the shrink guard until
`--accept-shrink`.

Real parts only: the Flex HRM simulator over HTTP, a Samba AD DC over LDAPS, SQLite in a
throwaway HRSYNC_HOME, `hrsync` as a process.
"""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.sites import cli_env

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
PEOPLE = 40


@dataclass
class Cli:
    env: dict[str, str]
    home: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HRSYNC, *args], env=self.env, capture_output=True, text=True, timeout=600, check=False
        )

    def json(self, *args: str) -> Any:
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def load(self, toml: str) -> None:
        (self.home / "hrsync.toml").write_text(toml, encoding="utf-8")
        done = self.run("config", "load", str(self.home / "hrsync.toml"))
        assert done.returncode == 0, done.stderr

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.home / "hrsync.sqlite3") as db:
            return db.execute(sql).fetchall()


def cli_in(home: Path, **env: str) -> Cli:
    return Cli(cli_env(home, FLEX_PASSWORD="flex-secret", **env), home)


def source_toml(sim: FlexSimulator, extra: str = "") -> str:
    return (
        f'[sources.flex]\ntype = "flexhrm"\nurl = "{sim.url}"\ninstance = "acme"\n'
        f'username = "api"\npassword_env = "FLEX_PASSWORD"\n{extra}'
    )


def start(dataset: dict[str, Any]) -> FlexSimulator:
    sim = FlexSimulator(dataset, credentials=Credentials("acme", "api", "flex-secret"))
    sim.start()
    return sim


# --- the gate on a connection -----------------------------------------------------------------


@dataclass
class Gate:
    cli: Cli
    sim: FlexSimulator
    directory: DirectoryClient
    base: str

    def users(self, ou: str = "") -> list[str]:
        where = f"{ou},{self.base}" if ou else self.base
        return sorted(dn for dn, _ in self.directory.search(where, "(objectClass=user)", []))

    def accounts(self) -> dict[str, str]:
        """Person id → the DN of the account linked to it."""
        rows = self.cli.query(
            "SELECT p.person_id, l.ref FROM hrsync_link l JOIN hrsync_person p ON p.id = "
            "l.person_id WHERE l.ref != ''"
        )
        return dict(rows)

    def restructure(self, share: float, department: str) -> list[str]:
        """Move `share` of the people with an account into `department` in HR; their DNs."""
        linked = sorted(self.accounts().items(), key=lambda item: item[1])
        # People whose CN is unique: two "Anna Andersson" from different OUs cannot both move
        # into one (the planner does not yet rename on a move into an OU where the CN is taken).
        cns = Counter(dn.split(",", 1)[0].casefold() for _, dn in linked)
        unique = [(pid, dn) for pid, dn in linked if cns[dn.split(",", 1)[0].casefold()] == 1]
        chosen = unique[: math.ceil(share * len(linked))]
        assert len(chosen) == math.ceil(share * len(linked))
        for person_id, _ in chosen:
            self.sim.patch_employee(person_id, {"organization": {"Department": department}})
        assert self.cli.json("import", "flex")["changed"] == len(chosen)
        return [dn for _, dn in chosen]

    def make_ou(self, name: str) -> str:
        dn = f"OU={name},{self.base}"
        self.directory.add(dn, {"objectClass": [b"top", b"organizationalUnit"]})
        return dn

    def move(self, dn: str, parent: str) -> str:
        rdn = dn.split(",", 1)[0]
        self.directory.rename(dn, rdn, parent)
        return f"{rdn},{parent}"


@pytest.fixture(scope="module")
def gate(
    samba_dc: SambaDC, admin_directory: DirectoryClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gate]:
    sim = start(generate_dataset(count=PEOPLE, seed=31))
    base = f"OU=gate{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    home = tmp_path_factory.mktemp("gate")
    cli = cli_in(home, AD_PASSWORD=samba_dc.admin_password)
    cli.load(
        source_toml(sim)
        + f"""
[connections.ad]
source = "flex"
type = "active_directory"
state = "active"
url = "{samba_dc.url}"
ca_file = "{samba_dc.ca_file}"
bind_dn = "{samba_dc.bind_dn}"
password_env = "AD_PASSWORD"
base_dn = "{base}"
users_ou = "OU=People,{base}"
upn_suffix = "{samba_dc.realm.lower()}"
placement = 'Join("/", "Staff", [org.Department])'
"""
    )
    cli.json("import", "flex")
    first = cli.json("run", "ad")
    assert (first["status"], first["held"], first["failed"]) == ("succeeded", 0, 0)
    try:
        yield Gate(cli, sim, admin_directory, base)
    finally:
        admin_directory.delete(base, with_subtree=True)
        sim.stop()


def department_of(gate: Gate, dn: str) -> str:
    values = gate.directory.read(dn, ["department"])
    assert values is not None, dn
    return values["department"][0].decode()


def test_a_restructure_moving_30_percent_is_held_approved_with_the_cli_and_applied_as_held(
    gate: Gate,
) -> None:
    linked = len(gate.accounts())
    moving = gate.restructure(0.3, "Transformation")
    held = gate.cli.json("run", "ad")
    assert held["status"] == "held" and held["applied"] == 0
    assert held["plan"]["move"] == len(moving)
    assert any(
        reason.startswith(f"{len(moving)} accounts would be moved: ")
        and f"% of the {linked} linked accounts" in reason
        for reason in held["reasons"]
    ), held["reasons"]
    assert "safety gate:" in gate.cli.run("run", "ad", "--simulate").stderr

    # Meanwhile an admin moves one of them elsewhere in AD, and edits another's department.
    before = department_of(gate, moving[1])
    elsewhere = gate.move(moving[0], gate.make_ou("Elsewhere"))
    gate.directory.modify(moving[1], [(2, "department", [b"Edited in AD"])])

    approved = gate.cli.json("runs", "approve", str(held["run_id"]))
    failures = gate.cli.query(
        f"SELECT kind, ref, error FROM hrsync_runchange WHERE run_id = {approved['run_id']} "
        "AND status = 'failed'"
    )
    assert not failures, (failures, approved)
    assert (approved["held_run"], approved["status"], approved["failed"]) == (
        held["run_id"],
        "succeeded",
        0,
    )
    skipped = {(s["kind"], s["ref"]): s["reason"] for s in approved["skipped"]}
    assert skipped.pop(("move", moving[0])) == (
        f"the account changed since the plan was held: it is now {elsewhere} "
        f"(the plan saw {moving[0]})"
    )
    assert {kind for kind, _ in skipped} <= {"update", "set_manager"}
    edited = [reason for reason in skipped.values() if "Edited in AD" in reason]
    assert edited == [
        "the account changed since the plan was held: department is now 'Edited in AD' "
        f"(the plan saw '{before}')"
    ]
    transformed = gate.users("OU=Transformation,OU=Staff")
    assert len(transformed) == len(moving) - 1
    # The edited account moved (its move stood); its department was left as the admin set it.
    (kept,) = [dn for dn in transformed if dn.startswith(moving[1].split(",", 1)[0] + ",")]
    assert department_of(gate, kept) == "Edited in AD"
    assert elsewhere in gate.users("OU=Elsewhere")

    runs = {row["id"]: row for row in gate.cli.json("runs", "list")}
    assert runs[held["run_id"]]["status"] == "succeeded"
    assert runs[approved["run_id"]]["started_by"] == "cli"
    note = gate.cli.query(f"SELECT error FROM hrsync_run WHERE id = {held['run_id']}")[0][0]
    assert note.startswith(f"approved by cli; applied by run #{approved['run_id']}")
    again = gate.cli.run("runs", "approve", str(held["run_id"]))
    assert again.returncode != 0 and "not held" in again.stderr
    assert "Traceback" not in again.stderr

    # What was skipped is planned again by the next run: one move, under the thresholds.
    follow_up = gate.cli.json("run", "ad")
    assert (follow_up["status"], follow_up["plan"]["move"]) == ("succeeded", 1)
    assert len(gate.users("OU=Transformation,OU=Staff")) == len(moving)
    assert gate.cli.json("run", "ad")["plan"]["move"] == 0


def test_a_held_plan_is_rejected_with_a_reason_and_nothing_is_applied(gate: Gate) -> None:
    moving = gate.restructure(0.3, "Reorganised")
    held = gate.cli.json("run", "ad")
    assert held["status"] == "held"
    done = gate.cli.run("runs", "reject", str(held["run_id"]), "--reason", "not during payroll")
    assert done.returncode == 0, done.stderr
    assert f"run {held['run_id']} rejected" in done.stdout
    assert set(moving) <= set(gate.users())  # nobody moved
    assert not list(gate.directory.search(gate.base, "(ou=Reorganised)", []))
    status, error = gate.cli.query(
        f"SELECT status, error FROM hrsync_run WHERE id = {held['run_id']}"
    )[0]
    assert (status, error.split(" (")[0]) == ("failed", "rejected by cli: not during payroll")
    actions = [a for (a,) in gate.cli.query("SELECT action FROM hrsync_auditevent")]
    assert "run.rejected" in actions
    missing = gate.cli.run("runs", "approve", "999999")
    assert missing.returncode != 0 and "there is no run 999999" in missing.stderr
    # An operator who has looked may still apply a fresh plan past the gate.
    assert gate.cli.json("run", "ad", "--force")["status"] == "succeeded"
    assert len(gate.users("OU=Reorganised,OU=Staff")) == len(moving)


def test_a_draft_connections_held_run_is_approved_as_the_readme_runs_it(gate: Gate) -> None:
    """`hrsync config load` leaves a connection a draft, and `hrsync run` applies on it: when the
    gate holds such a run, `hrsync runs approve` applies it as well, no dead end."""
    gate.cli.query("UPDATE hrsync_connection SET state = 'draft' WHERE key = 'ad'")
    try:
        moving = gate.restructure(0.3, "Drafted")
        held = gate.cli.json("run", "ad")
        assert held["status"] == "held"
        approved = gate.cli.json("runs", "approve", str(held["run_id"]))
        assert (approved["status"], approved["failed"]) == ("succeeded", 0)
        assert len(gate.users("OU=Drafted,OU=Staff")) == len(moving)
    finally:
        gate.cli.query("UPDATE hrsync_connection SET state = 'active' WHERE key = 'ad'")


# --- the shrink guard ---------------------------------------------------------------------------


def test_a_full_import_listing_far_fewer_people_is_held_until_accepted(
    tmp_path: Path,
) -> None:
    dataset = generate_dataset(count=PEOPLE, seed=37)
    everyone = start(dataset)
    cli = cli_in(tmp_path)
    try:
        cli.load(source_toml(everyone))
        first = cli.json("import", "flex")
        assert first["fetched"] == PEOPLE and "held" not in first
        logged = cli.query("SELECT count(*) FROM hrsync_personnelchange")
    finally:
        everyone.stop()

    # The source now lists 28 of the 40 (12 fewer, 30 %); one of them changed meanwhile.
    fewer = start(dataset | {"employees": dataset["employees"][:28]})
    try:
        changed = fewer.patch_employee(dataset["employees"][0]["id"], {"phone1": "+46 8 555 00"})
        assert changed["phone1"] == "+46 8 555 00"
        cli.load(source_toml(fewer))
        held = cli.json("import", "flex", "--full")
        assert held["fetched"] == 28
        assert held["held"] == (
            "the source listed 28 people, 12 fewer than the 40 of the last import "
            "(30 % fewer; held when more than 10 % and at least 10 fewer)"
        )
        text = cli.run("import", "flex", "--full")
        assert "held, nothing recorded" in text.stderr and "--accept-shrink" in text.stderr
        assert cli.query("SELECT count(*) FROM hrsync_personnelchange") == logged
        rows = cli.query("SELECT status, error FROM hrsync_import ORDER BY id")
        assert [status for status, _ in rows] == ["succeeded", "held", "held"]
        assert rows[1][1].startswith("held by the shrink guard: the source listed 28 people")
        phone_sql = (
            "SELECT json_extract(fields, '$.phone') FROM hrsync_person "
            f"WHERE person_id = '{dataset['employees'][0]['id']}'"
        )
        assert cli.query(phone_sql) == [(dataset["employees"][0]["phone1"],)]

        accepted = cli.json("import", "flex", "--accept-shrink")
        assert "held" not in accepted and accepted["changed"] == 1
        assert cli.query("SELECT count(*) FROM hrsync_personnelchange") == [(logged[0][0] + 1,)]
        assert cli.query(phone_sql) == [("+46 8 555 00",)]
        audit = cli.query(
            "SELECT actor, after FROM hrsync_auditevent WHERE action = 'source.shrink_accepted'"
        )
        assert len(audit) == 1 and audit[0][0] == "cli"
        assert "12 fewer" in json.loads(audit[0][1])["reason"]
        # The accepted import is the new baseline.
        assert "held" not in cli.json("import", "flex", "--full")
    finally:
        fewer.stop()


def test_a_source_shrink_guard_can_be_loosened_per_source(tmp_path: Path) -> None:
    dataset = generate_dataset(count=PEOPLE, seed=41)
    sim = start(dataset)
    cli = cli_in(tmp_path)
    try:
        cli.load(source_toml(sim, "[sources.flex.shrink_guard]\npercent = 50\n"))
        cli.json("import", "flex")
    finally:
        sim.stop()
    fewer = start(dataset | {"employees": dataset["employees"][:28]})
    try:
        cli.load(source_toml(fewer, "[sources.flex.shrink_guard]\npercent = 50\n"))
        assert "held" not in cli.json("import", "flex", "--full")  # 30 % fewer: allowed
    finally:
        fewer.stop()
