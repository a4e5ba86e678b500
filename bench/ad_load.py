"""hrsync's AD load against raw `ldapadd` of the same entries, each into a fresh Samba domain."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from bench.measure import Measured, measure
from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.active_directory.passwords import initial_password
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.source import FlexHrmSource
from hrsync.domain.changes import CreateAccount
from hrsync.domain.person import Person
from hrsync.engine.plan import plan_changes
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

FLEX_PASSWORD = "bench-secret"
HRSYNC = str(Path(sys.executable).with_name("hrsync"))


def run(people_count: int, workdir: Path) -> dict[str, float]:
    """Every figure of the AD benchmark, printed as it is measured."""
    workdir.mkdir(parents=True, exist_ok=True)
    sim = FlexSimulator(
        generate_dataset(count=people_count, seed=2026),
        credentials=Credentials(instance="acme", username="api", password=FLEX_PASSWORD),
    )
    sim.start()
    try:
        return _run(sim, people_count, workdir)
    finally:
        sim.stop()


def _run(sim: FlexSimulator, people_count: int, workdir: Path) -> dict[str, float]:
    people = _read_people(sim.url)
    raw = _with_domain(workdir / "raw", lambda dc: _ldapadd(dc, people, workdir))
    print(f"raw ldapadd: {raw.seconds:.1f} s for the entries below")
    figures = _with_domain(workdir / "hrsync", lambda dc: _hrsync(dc, sim.url, workdir))
    figures["ldapadd_seconds"] = raw.seconds
    figures["ratio"] = figures["run_seconds"] / raw.seconds
    return figures


def _read_people(url: str) -> list[Person]:
    config = FlexHrmConfig(url=url, instance="acme", username="api", password=FLEX_PASSWORD)
    with FlexHrmSource(config) as source:
        return [item for item in source.read_people(None) if isinstance(item, Person)]


def _with_domain(path: Path, work):  # type: ignore[no-untyped-def]
    dc = SambaDC.provision(path)
    dc.start()
    try:
        dc.wait_ready(timeout=120)
        return work(dc)
    finally:
        dc.stop()


def _policy(dc: SambaDC) -> DirectoryPolicy:
    return DirectoryPolicy(users_ou=f"OU=People,{dc.base_dn}", upn_suffix="example.test")


def _ldapadd(dc: SambaDC, people: list[Person], workdir: Path) -> Measured:
    """The entries hrsync would create, as one LDIF, added by OpenLDAP's ldapadd over LDAPS."""
    plan = plan_changes(people, [], {}, _policy(dc), date.today())
    creates = [c for c in plan.changes if isinstance(c, CreateAccount)]
    ldif = workdir / "raw.ldif"
    with ldif.open("w", encoding="utf-8") as out:
        out.write(f"dn: OU=People,{dc.base_dn}\nobjectClass: organizationalUnit\n\n")
        for create in creates:
            out.write(_entry(create))
    print(f"ldif: {len(creates)} users")
    env = os.environ | {"LDAPTLS_REQCERT": "never"}
    command = [
        "ldapadd",
        "-x",
        "-H",
        dc.url,
        "-D",
        dc.bind_dn,
        "-w",
        dc.admin_password,
        "-f",
        str(ldif),
    ]
    return measure(command, env)


def _entry(create: CreateAccount) -> str:
    password = f'"{initial_password()}"'.encode("utf-16-le")
    lines = [
        f"dn:: {_b64(create.ref)}",
        "objectClass: top",
        "objectClass: person",
        "objectClass: organizationalPerson",
        "objectClass: user",
    ]
    lines += [f"{name}:: {_b64(value)}" for name, value in create.attributes.items() if value]
    lines += [
        f"unicodePwd:: {base64.b64encode(password).decode()}",
        "pwdLastSet: 0",
        f"userAccountControl: {512 if create.is_enabled else 514}",
    ]
    return "\n".join(lines) + "\n\n"


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _hrsync(dc: SambaDC, flex_url: str, workdir: Path) -> dict[str, float]:
    home = workdir / "home"
    home.mkdir()
    config = home / "bench.toml"
    config.write_text(_config(dc, flex_url), encoding="utf-8")
    env = os.environ | {
        "HRSYNC_HOME": str(home),
        "FLEX_PASSWORD": FLEX_PASSWORD,
        "AD_PASSWORD": dc.admin_password,
    }
    measure([HRSYNC, "config", "load", str(config)], env)
    imported = measure([HRSYNC, "import", "flex", "--full", "--json"], env)
    print(
        f"hrsync import: {imported.seconds:.1f} s, peak RSS {imported.peak_rss_mb:.0f} MB, "
        f"{imported.output.strip()}"
    )
    loaded = measure([HRSYNC, "run", "ad", "--json"], env)
    result = json.loads(loaded.output)
    print(
        f"hrsync run: {loaded.seconds:.1f} s, peak RSS {loaded.peak_rss_mb:.0f} MB, "
        f"plan {result['plan']}, applied {result['applied']}, failed {result['failed']}"
    )
    unchanged = measure([HRSYNC, "run", "ad", "--simulate", "--json"], env)
    replan = json.loads(unchanged.output)
    print(
        f"hrsync re-plan (read + plan, nothing to change): {unchanged.seconds:.1f} s, "
        f"plan {replan['plan']}"
    )
    plan_only = _time_plan_only(dc, flex_url)
    return {
        "import_seconds": imported.seconds,
        "import_rss_mb": imported.peak_rss_mb,
        "run_seconds": loaded.seconds,
        "run_rss_mb": loaded.peak_rss_mb,
        "replan_seconds": unchanged.seconds,
        "plan_only_seconds": plan_only,
        "applied": float(result["applied"]),
        "failed": float(result["failed"]),
    }


def _time_plan_only(dc: SambaDC, flex_url: str) -> float:
    """plan_changes alone, for every person against every (already matching) account."""
    people = _read_people(flex_url)
    config = ActiveDirectoryConfig(
        url=dc.url,
        tls_verify=False,
        bind_dn=dc.bind_dn,
        password=dc.admin_password,
        base_dn=dc.base_dn,
        users_ou=f"OU=People,{dc.base_dn}",
        upn_suffix="example.test",
    )
    accounts = list(ActiveDirectoryTarget(config).read_accounts())
    started = time.perf_counter()
    plan = plan_changes(people, accounts, {}, _policy(dc), date.today())
    seconds = time.perf_counter() - started
    print(
        f"plan only: {len(people)} persons against {len(accounts)} accounts in {seconds:.2f} s, "
        f"{len(plan.changes)} changes"
    )
    return seconds


def _config(dc: SambaDC, flex_url: str) -> str:
    return "\n".join(_config_lines(dc, flex_url)) + "\n"


def _config_lines(dc: SambaDC, flex_url: str) -> Iterator[str]:
    yield from [
        "[sources.flex]",
        'type = "flexhrm"',
        f'url = "{flex_url}"',
        'instance = "acme"',
        'username = "api"',
        'password_env = "FLEX_PASSWORD"',
        "",
        "[connections.ad]",
        'source = "flex"',
        'type = "active_directory"',
        f'url = "{dc.url}"',
        "tls_verify = false",
        f'bind_dn = "{dc.bind_dn}"',
        'password_env = "AD_PASSWORD"',
        f'base_dn = "{dc.base_dn}"',
        f'users_ou = "OU=People,{dc.base_dn}"',
        'upn_suffix = "example.test"',
    ]
