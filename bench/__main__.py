"""`make bench`: hrsync against raw ldapadd on real Samba, side by side, with peak memory; the
console's list pages and API under load on PostgreSQL."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench import ad_load, console_lists, tickets
from hrsync.testing.samba import samba_available

GOALS = {
    "ratio": 1.5,
    "run_rss_mb": 300.0,
    "plan_only_seconds": 10.0,
    "tickets_overhead_pct": 30.0,
    "lists_p95_ms": console_lists.GOAL_P95_MS,
    "lists_p95_ms_1_client": console_lists.GOAL_P95_MS,
}
SAMBA_PARTS = ("", "tickets", "ad")


def main() -> int:
    count = int(os.environ.get("HRSYNC_BENCH_PEOPLE", "10000"))
    only = os.environ.get("HRSYNC_BENCH_ONLY", "")  # "ad", "tickets" or "lists": one part only
    if only in SAMBA_PARTS and not samba_available():
        print("make bench needs Samba (samba-ad-dc); run make install as root first.")
        return 2
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-") as tmp:
        if only in ("", "tickets"):
            print(f"== Import: {count} new persons, without and with tickets and a trigger ==")
            figures |= tickets.run(count, Path(tmp) / "tickets")
        if only in ("", "ad"):
            print(f"== AD load: {count} generated persons, hrsync vs ldapadd, fresh domains ==")
            figures |= ad_load.run(count, Path(tmp) / "ad")
        if only in ("", "lists"):
            print(
                "== Lists: 100,000 tickets, 1,000,000 audit events, 200 connections (PostgreSQL) =="
            )
            figures |= console_lists.run(Path(tmp) / "lists")
    print()
    print(f"{'figure':<22}{'measured':>12}{'goal':>10}")
    for name, value in figures.items():
        goal = GOALS.get(name)
        mark = "" if goal is None else ("  ok" if value <= goal else "  OVER GOAL")
        print(f"{name:<22}{value:>12.2f}{'' if goal is None else f'{goal:>10.1f}'}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
