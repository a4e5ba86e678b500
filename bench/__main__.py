"""`make bench`: hrsync against raw ldapadd on real Samba, side by side, with peak memory; the
console's list pages and API under load on PostgreSQL; scheduling latency (an HR edit until AD
shows it) and throughput (1,000 one-minute connections); 200 Oneflow contracts signed at once;
10,000 persons into the Graph simulator against raw POSTs."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from bench import (
    ad_load,
    afas_load,
    console_lists,
    csv_import,
    csv_load,
    graph_load,
    oneflow_load,
    plan_scale,
    scheduling,
    scim_load,
    tickets,
)
from hrsync.app.logs import configure_logging
from hrsync.testing.samba import samba_available

GOALS = {
    "ratio": 1.25,
    "run_rss_mb": 300.0,
    "plan_only_seconds": 10.0,
    "tickets_overhead_pct": 30.0,
    "lists_p95_ms": console_lists.GOAL_P95_MS,
    "lists_p95_ms_1_client": console_lists.GOAL_P95_MS,
    "latency_p95_s": scheduling.GOAL_LATENCY_P95_S,
    "scheduler_lag_p95_s": scheduling.GOAL_SCHEDULER_LAG_P95_S,
    "duplicate_runs": 0.0,
    "plan_50k_seconds": plan_scale.GOAL_SECONDS,
    "plan_50k_rss_mb": plan_scale.GOAL_RSS_MB,
    "scim_ratio": scim_load.GOAL_RATIO,
    "scim_bulk_ratio": scim_load.GOAL_BULK_RATIO,
    "scim_incremental_s": scim_load.GOAL_INCREMENTAL_SECONDS,
    "oneflow_signed_s": oneflow_load.GOAL_SECONDS,
    "oneflow_duplicates": oneflow_load.GOAL_DUPLICATES,
    "csv_write_s": csv_load.GOAL_WRITE_SECONDS,
    "csv_rss_mb": csv_load.GOAL_RSS_MB,
    "sftp_time_ratio": csv_load.GOAL_UPLOAD_TIME_RATIO,
    "csv_import_plain_seconds": csv_import.GOAL_SECONDS,
    "afas_import_s": afas_load.GOAL_IMPORT_SECONDS,
    "graph_ratio": graph_load.GOAL_RATIO,
    "graph_incremental_s": graph_load.GOAL_INCREMENTAL_SECONDS,
    "graph_rss_mb": graph_load.GOAL_RSS_MB,
}
SAMBA_PARTS = ("", "tickets", "ad", "latency", "throughput")


def main() -> int:
    configure_logging()  # as the CLI logs: INFO and up, on stderr, so the figures stay readable
    count = int(os.environ.get("HRSYNC_BENCH_PEOPLE", "10000"))
    # "ad", "tickets", "lists", "latency", "throughput", "scim", "plan", "oneflow", "csv" or
    # "graph": one part only
    only = os.environ.get("HRSYNC_BENCH_ONLY", "")
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
        if only in ("", "latency"):
            print("== Latency: HR edits until AD shows them, one-minute import schedule ==")
            figures |= scheduling.run_latency(Path(tmp) / "latency")
        if only in ("", "throughput"):
            print("== Throughput: 1,000 connections on one-minute schedules, Redis, PostgreSQL ==")
            figures |= scheduling.run_throughput(Path(tmp) / "throughput")
        if only in ("", "scim"):
            print("== SCIM load: 1,000 persons into scim2-server, hrsync vs raw POSTs ==")
            figures |= scim_load.run(int(os.environ.get("HRSYNC_BENCH_SCIM_PEOPLE", "1000")))
        if only in ("", "plan"):
            scale = int(os.environ.get("HRSYNC_BENCH_PLAN_PEOPLE", "50000"))
            print(f"== Plan at scale: {scale} persons with groups, 1 % changed in HR ==")
            figures |= plan_scale.run(scale, Path(tmp) / "plan")
        if only in ("", "oneflow"):
            contracts = int(os.environ.get("HRSYNC_BENCH_ONEFLOW_CONTRACTS", "200"))
            print(f"== Oneflow: {contracts} contracts signed at once, webhooks to hrsync serve ==")
            figures |= oneflow_load.run(contracts, Path(tmp) / "oneflow")
        if only in ("", "csv"):
            persons = int(os.environ.get("HRSYNC_BENCH_CSV_PEOPLE", "100000"))
            print(f"== CSV: {persons} persons into Flexwhere's users file ==")
            figures |= csv_load.run(persons, Path(tmp) / "csv")
            print(f"== CSV source: a {persons}-row file imported, without and with tickets ==")
            figures |= csv_import.measure_import(persons)
        if only in ("", "afas"):
            employees = int(os.environ.get("HRSYNC_BENCH_AFAS_PEOPLE", "10000"))
            print(f"== AFAS: {employees} employees read from the AFAS simulator ==")
            figures |= afas_load.run(employees)
        if only in ("", "graph"):
            persons = int(os.environ.get("HRSYNC_BENCH_GRAPH_PEOPLE", "10000"))
            print(f"== Graph: {persons} persons into the Graph simulator (20 ms a request) ==")
            figures |= graph_load.run(persons, Path(tmp) / "graph")
    print()
    print(f"{'figure':<26}{'measured':>12}{'goal':>10}{'margin':>10}")
    missed = []
    for name, value in figures.items():
        goal = GOALS.get(name)
        if goal is None:
            print(f"{name:<26}{value:>12.2f}")
            continue
        mark = "  ok" if value <= goal else "  OVER GOAL"
        if value > goal:
            missed.append(name)
        print(f"{name:<26}{value:>12.2f}{goal:>10.2f}{goal - value:>+10.2f}{mark}")
    if missed:
        print(f"\n{len(missed)} goal(s) missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
