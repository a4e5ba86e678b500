"""`make bench`: hrsync against raw ldapadd on real Samba, side by side, with peak memory."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench import ad_load, tickets
from hrsync.testing.samba import samba_available

GOALS = {
    "ratio": 1.5,
    "run_rss_mb": 300.0,
    "plan_only_seconds": 10.0,
    "tickets_overhead_pct": 30.0,
}


def main() -> int:
    if not samba_available():
        print("make bench needs Samba (samba-ad-dc); run make install as root first.")
        return 2
    count = int(os.environ.get("HRSYNC_BENCH_PEOPLE", "10000"))
    only = os.environ.get("HRSYNC_BENCH_ONLY", "")  # "ad" or "tickets": one part only
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-") as tmp:
        if only in ("", "tickets"):
            print(f"== Import: {count} new persons, without and with tickets and a trigger ==")
            figures |= tickets.run(count, Path(tmp) / "tickets")
        if only in ("", "ad"):
            print(f"== AD load: {count} generated persons, hrsync vs ldapadd, fresh domains ==")
            figures |= ad_load.run(count, Path(tmp) / "ad")
    print()
    print(f"{'figure':<22}{'measured':>12}{'goal':>10}")
    for name, value in figures.items():
        goal = GOALS.get(name)
        mark = "" if goal is None else ("  ok" if value <= goal else "  OVER GOAL")
        print(f"{name:<22}{value:>12.2f}{'' if goal is None else f'{goal:>10.1f}'}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
