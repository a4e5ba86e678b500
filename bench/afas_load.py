"""AFAS import at scale: 10,000 generated employees read from the AFAS simulator over loopback
by the AFAS source (goal ≤ 15 s, issue 16), then a modified-since import after 10 edits.

    .venv/bin/python -m bench.afas_load [COUNT]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import httpx2

from hrsync.connectors.afas.config import AfasConfig
from hrsync.connectors.afas.source import AfasSource
from hrsync.domain.person import Person
from hrsync.simulators.afas import AfasSimulator, Token, generate_dataset

GOAL_IMPORT_SECONDS = 15.0


def run(count: int) -> dict[str, float]:
    """Seconds for a full import of `count` employees and for a window holding 10 edits."""
    with AfasSimulator(generate_dataset(count, seed=16), Token("bench")) as sim:
        config = AfasConfig.model_validate({"url": sim.url, "token": "bench"})
        full, people = _timed_import(config, None)
        since = datetime.now(UTC) - timedelta(seconds=1)
        for number in range(10001, 10011):
            httpx2.patch(f"{sim.control_url}/employees/{number}", json={"Mobiel_werk": "06-1"})
        window, changed = _timed_import(config, since)
    print(
        f"afas: {people} persons in {full:.2f} s (goal ≤ {GOAL_IMPORT_SECONDS:.0f} s); "
        f"{changed} changed through the window in {window:.2f} s"
    )
    return {"afas_import_s": full, "afas_window_s": window}


def _timed_import(config: AfasConfig, since: datetime | None) -> tuple[float, int]:
    started = time.perf_counter()
    with AfasSource(config) as source:
        people = sum(isinstance(record, Person) for record in source.read_people(since))
    return time.perf_counter() - started, people


if __name__ == "__main__":
    figures = run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    sys.exit(0 if figures["afas_import_s"] <= GOAL_IMPORT_SECONDS else 1)
