"""Import 10,000 new persons with and without tickets and a trigger, side by side."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bench.measure import measure
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset

FLEX_PASSWORD = "bench-secret"
HRSYNC = str(Path(sys.executable).with_name("hrsync"))

SOURCE = """
[sources.flex]
type = "flexhrm"
url = "{url}"
instance = "acme"
username = "api"
password_env = "FLEX_PASSWORD"
"""
TRIGGER = """
[triggers.flag-new-hires]
event = "ticket.created"
conditions = [{ field = "source", op = "equals", value = "FlexHR" },
              { field = "kind", op = "equals", value = "joiner" }]
actions = [{ do = "comment", text = "Welcome aboard, {person_name}." }]
"""


def run(people_count: int, workdir: Path) -> dict[str, float]:
    sim = FlexSimulator(
        generate_dataset(count=people_count, seed=2027),
        credentials=Credentials(instance="acme", username="api", password=FLEX_PASSWORD),
    )
    sim.start()
    try:
        plain = _import(workdir / "plain", SOURCE.format(url=sim.url), "--no-tickets")
        ticketed = _import(workdir / "tickets", SOURCE.format(url=sim.url) + TRIGGER)
    finally:
        sim.stop()
    for label, figures in (("without tickets", plain), ("with tickets + trigger", ticketed)):
        print(
            f"import {label}: {figures['seconds']:.1f} s, peak RSS {figures['rss_mb']:.0f} MB, "
            f"{figures['new']} new"
        )
    return {
        "import_plain_seconds": plain["seconds"],
        "import_tickets_seconds": ticketed["seconds"],
        "tickets_overhead_pct": 100 * (ticketed["seconds"] / plain["seconds"] - 1),
        "import_tickets_rss_mb": ticketed["rss_mb"],
    }


def _import(home: Path, config: str, *flags: str) -> dict[str, float]:
    home.mkdir(parents=True)
    (home / "bench.toml").write_text(config, encoding="utf-8")
    env = os.environ | {"HRSYNC_HOME": str(home), "FLEX_PASSWORD": FLEX_PASSWORD}
    env.pop("DATABASE_URL", None)
    measure([HRSYNC, "config", "load", str(home / "bench.toml")], env)
    done = measure([sys.executable, "-m", "bench.import_once", *flags], env)
    result: dict[str, float] = json.loads(done.output)
    return result
