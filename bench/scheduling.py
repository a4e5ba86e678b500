"""Scheduling under load, with real processes: `hrsync serve`, `hrsync scheduler`, `hrsync worker`.

Latency: a one-minute import schedule on the source and an on-change AD connection, run by
`hrsync serve --workers 2` on SQLite with its SQLite queue. HR edits are made in the Flex HRM
simulator a few seconds apart; each is timed from the edit until Samba AD shows the new value.

Throughput: 1,000 active connections with a one-minute schedule each, on PostgreSQL with a Redis
queue, one `hrsync scheduler` and four `hrsync worker --workers 1`. Every connection targets the
same Samba DC, scoped to an empty OU, and its source has no people: each run binds, reads the OU
and the domain's login names, plans nothing and records the Run. After a few minutes the JobRun
table says how late the scheduler queued each slot, how late a worker started it, and whether any
slot ran twice or was missed.

The scheduler steps every 5 s counted from its own start, not from the minute, and a tick stamps
`queued` with the moment it began: the scheduler lag of one benchmark run is mostly the phase
between the two, anywhere from 0 to 5 s, and the next run lands elsewhere. The start lag shows
what the tick and the queue add to it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import psycopg
import redis
from psycopg import sql

from bench.measure import measure
from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
FLEX_PASSWORD = "bench-secret"
POSTGRES_URL = os.environ.get(
    "HRSYNC_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# A Redis database of the benchmark's own, flushed before the run and after it. Not 1-15: the test
# suite takes one of those at random and flushes it (tests/servers.py), which would drop queued
# messages here mid-run.
REDIS_URL = os.environ.get("HRSYNC_BENCH_REDIS", "redis://127.0.0.1:6379/0")

GOAL_LATENCY_P95_S = 90.0  # Microsoft Entra provisioning runs on a fixed ~40-minute cycle
GOAL_SCHEDULER_LAG_P95_S = 5.0

LATENCY_PEOPLE = 200
WAIT_AFTER_LAST_EDIT_S = 300.0
POLL_S = 0.25
THROUGHPUT_WORKERS = 4
DRAIN_S = 120.0
STOP_S = 70.0  # a worker finishes its running job first (the consumer's shutdown_timeout is 60)
DROPPED_ENV = ("DATABASE_URL", "HRSYNC_QUEUE_URL", "HRSYNC_QUEUE_NAME", "HRSYNC_HOME")
QUEUE_NAME = f"hrsync-bench-{os.getpid()}"
"""A queue of its own on the shared Redis: tests and other runs may use the same database."""


# --- latency -----------------------------------------------------------------------------------


def run_latency(workdir: Path) -> dict[str, float]:
    """Every figure of the latency benchmark, printed as it is measured."""
    edits = int(os.environ.get("HRSYNC_BENCH_EDITS", "50"))
    spacing = float(os.environ.get("HRSYNC_BENCH_EDIT_SPACING", "4"))
    workdir.mkdir(parents=True, exist_ok=True)
    sim = FlexSimulator(
        generate_dataset(count=LATENCY_PEOPLE, seed=2026),
        credentials=Credentials(instance="acme", username="api", password=FLEX_PASSWORD),
    )
    sim.start()
    try:
        with _samba(workdir / "dc") as dc:
            return _latency(sim, dc, workdir, edits, spacing)
    finally:
        sim.stop()


def _latency(
    sim: FlexSimulator, dc: SambaDC, workdir: Path, edits: int, spacing: float
) -> dict[str, float]:
    home = workdir / "home"
    home.mkdir()
    users_ou = f"OU=People,{dc.base_dn}"
    config = home / "latency.toml"
    config.write_text(_latency_config(sim.url, dc, users_ou), encoding="utf-8")
    env = _env(home, dc)
    measure([HRSYNC, "config", "load", str(config)], env)
    imported = measure([HRSYNC, "import", "flex", "--full", "--json"], env)
    loaded = json.loads(measure([HRSYNC, "run", "ad", "--json"], env).output)
    print(
        f"set-up: {LATENCY_PEOPLE} people, import {imported.output.strip()}, "
        f"first run applied {loaded['applied']}, failed {loaded['failed']}"
    )
    directory = DirectoryClient(_directory_config(dc, users_ou))
    try:
        enabled = sorted(
            p for p, is_enabled in _accounts(directory, users_ou).items() if is_enabled
        )
        chosen = random.Random(2026).sample(enabled, min(edits, len(enabled)))
        with _children(workdir / "logs") as children:
            port = _free_port()
            serve = children.start(
                "serve", [HRSYNC, "serve", "--port", str(port), "--workers", "2"], env
            )
            _wait_answering(f"http://127.0.0.1:{port}/signin/", children)
            print(
                f"hrsync serve --workers 2 up; {len(chosen)} department edits, one every "
                f"{spacing:g} s, each timed until Samba shows it"
            )
            seen, lost = _edit_and_watch(sim, directory, users_ou, chosen, spacing, children)
            rss = _peak_rss_mb(serve.pid)
    finally:
        directory.close()
    _print_jobs(home / "hrsync.sqlite3")
    every = seen + [math.inf] * lost  # an edit never seen counts as infinitely late
    figures = {
        "latency_p50_s": _percentile(every, 50),
        "latency_p95_s": _percentile(every, 95),
        "latency_max_s": max(every, default=math.nan),
        "latency_lost": float(lost),
        "serve_rss_mb": rss,
    }
    print(
        f"latency over {len(seen)} edits: p50 {figures['latency_p50_s']:.1f} s, "
        f"p95 {figures['latency_p95_s']:.1f} s, max {figures['latency_max_s']:.1f} s; "
        f"{lost} never seen within {WAIT_AFTER_LAST_EDIT_S:.0f} s of the last edit; "
        f"serve peak RSS {rss:.0f} MB"
    )
    return figures


def _edit_and_watch(
    sim: FlexSimulator,
    directory: DirectoryClient,
    users_ou: str,
    people: Sequence[str],
    spacing: float,
    children: Children,
) -> tuple[list[float], int]:
    """Edit one person every `spacing` seconds and poll the OU until each edit shows; returns the
    latencies and how many edits never showed."""
    control = sim.url.removesuffix("api/") + "_sim/employees/"
    waiting = list(people)
    pending: dict[str, tuple[str, float]] = {}  # person id -> (department, edited at)
    seen: list[float] = []
    next_edit = time.monotonic()
    give_up = math.inf
    with httpx2.Client(timeout=30) as client:
        while (waiting or pending) and time.monotonic() < give_up:
            if waiting and time.monotonic() >= next_edit:
                person = waiting.pop(0)
                department = f"Bench {len(people) - len(waiting):02d}"
                edited = time.monotonic()
                patched = client.patch(
                    control + person, json={"organization": {"Department": department}}
                )
                patched.raise_for_status()
                pending[person] = (department, edited)
                next_edit += spacing
                if not waiting:
                    give_up = time.monotonic() + WAIT_AFTER_LAST_EDIT_S
            for person, department in _departments(directory, users_ou).items():
                if person in pending and pending[person][0] == department:
                    seen.append(time.monotonic() - pending.pop(person)[1])
                    if len(seen) % 10 == 0:
                        print(f"  {len(seen)} edits visible in AD, latest after {seen[-1]:.1f} s")
            children.check()
            time.sleep(POLL_S)
    return seen, len(pending)


def _accounts(directory: DirectoryClient, users_ou: str) -> dict[str, bool]:
    """Person id -> whether the account is enabled."""
    found = directory.search(
        users_ou, "(objectClass=user)", ["employeeNumber", "userAccountControl"]
    )
    return {
        values["employeeNumber"][0].decode(): not int(values["userAccountControl"][0]) & 2
        for _, values in found
        if values.get("employeeNumber")
    }


def _departments(directory: DirectoryClient, users_ou: str) -> dict[str, str]:
    found = directory.search(users_ou, "(objectClass=user)", ["employeeNumber", "department"])
    return {
        values["employeeNumber"][0].decode(): values["department"][0].decode()
        for _, values in found
        if values.get("employeeNumber") and values.get("department")
    }


def _print_jobs(database: Path) -> None:
    """What the scheduler and workers did, from the JobRun table."""
    with contextlib.closing(sqlite3.connect(database)) as store:
        rows = store.execute(
            "SELECT kind, started_by, state, count(*), sum(attempts) FROM hrsync_jobrun "
            "GROUP BY kind, started_by, state ORDER BY kind, started_by, state"
        ).fetchall()
    print(
        "job runs: "
        + "; ".join(f"{k} {by} {state} {n} ({a} attempts)" for k, by, state, n, a in rows)
    )


def _latency_config(flex_url: str, dc: SambaDC, users_ou: str) -> str:
    lines = [
        "[sources.flex]",
        'type = "flexhrm"',
        f'url = "{flex_url}"',
        'instance = "acme"',
        'username = "api"',
        'password_env = "FLEX_PASSWORD"',
        'schedule = "* * * * *"',
        "",
        "[connections.ad]",
        'source = "flex"',
        'type = "active_directory"',
        'state = "active"',
        'schedule = "on-change"',
        *_ad_lines(dc, dc.base_dn, users_ou),
    ]
    return "\n".join(lines) + "\n"


# --- throughput --------------------------------------------------------------------------------


def run_throughput(workdir: Path) -> dict[str, float]:
    """Every figure of the throughput benchmark, printed as it is measured."""
    count = int(os.environ.get("HRSYNC_BENCH_SCHEDULED", "1000"))
    seconds = float(os.environ.get("HRSYNC_BENCH_SCHEDULE_SECONDS", "180"))
    missing = _missing_servers()
    if missing:
        print(f"throughput: {missing}; skipped")
        return {}
    workdir.mkdir(parents=True, exist_ok=True)
    queue = redis.Redis.from_url(REDIS_URL)
    try:
        with _throwaway_database() as url, _samba(workdir / "dc") as dc:
            return _throughput(url, dc, workdir, count, seconds)
    finally:
        for key in queue.scan_iter(match=f"*{QUEUE_NAME}*"):  # this run's queue, nothing else
            queue.delete(key)
        queue.close()


def _throughput(
    database_url: str, dc: SambaDC, workdir: Path, count: int, seconds: float
) -> dict[str, float]:
    base = f"OU=Bench,{dc.base_dn}"
    users_ou = f"OU=People,{base}"
    admin = DirectoryClient(_directory_config(dc, dc.base_dn))
    try:
        for dn in (base, users_ou):  # made once here, so no run has to create them
            admin.add(dn, {"objectClass": [b"top", b"organizationalUnit"]})
    finally:
        admin.close()
    home = workdir / "home"
    home.mkdir()
    config = home / "throughput.toml"
    config.write_text(_throughput_config(dc, base, users_ou, count), encoding="utf-8")
    env = _env(home, dc) | {
        "DATABASE_URL": database_url,
        "HRSYNC_QUEUE_URL": REDIS_URL,
        "HRSYNC_QUEUE_NAME": QUEUE_NAME,
    }
    loaded = measure([HRSYNC, "config", "load", str(config)], env)
    print(f"config load: {count} connections in {loaded.seconds:.1f} s")
    with _children(workdir / "logs") as children:
        workers = [
            children.start(f"worker-{n}", [HRSYNC, "worker", "--workers", "1"], env)
            for n in range(1, THROUGHPUT_WORKERS + 1)
        ]
        scheduler = children.start("scheduler", [HRSYNC, "scheduler"], env)
        started = datetime.now(UTC)
        print(
            f"hrsync scheduler and {THROUGHPUT_WORKERS} x hrsync worker --workers 1 "
            f"(Redis queue, PostgreSQL) for {seconds:.0f} s"
        )
        with psycopg.connect(database_url, autocommit=True) as store:
            _watch(store, children, started + timedelta(seconds=seconds))
            scheduler_rss = _peak_rss_mb(scheduler.pid)
            children.stop(scheduler)
            stopped = datetime.now(UTC)
            drained = _drain(store, children)
            worker_rss = max(_peak_rss_mb(worker.pid) for worker in workers)
            for worker in workers:
                children.stop(worker)
            figures = _throughput_figures(store, stopped)
    figures |= {"worker_rss_mb": worker_rss, "scheduler_rss_mb": scheduler_rss}
    print(
        f"drained in {drained:.0f} s after the scheduler stopped; peak RSS: worker "
        f"{worker_rss:.0f} MB (largest of {THROUGHPUT_WORKERS}), scheduler {scheduler_rss:.0f} MB"
    )
    return figures


def _watch(
    store: psycopg.Connection[tuple[object, ...]], children: Children, until: datetime
) -> None:
    """Wait until `until`, printing the JobRun states every 30 seconds."""
    next_report = time.monotonic() + 30
    while datetime.now(UTC) < until:
        children.check()
        if time.monotonic() >= next_report:
            print(f"  {_states(store)}")
            next_report += 30
        time.sleep(1)


def _drain(store: psycopg.Connection[tuple[object, ...]], children: Children) -> float:
    """Let the workers finish what was queued before the scheduler stopped (up to DRAIN_S)."""
    began = time.monotonic()
    while time.monotonic() - began < DRAIN_S:
        children.check()
        left = store.execute(
            "SELECT count(*) FROM hrsync_jobrun WHERE state = 'running' "
            "OR (state = 'queued' AND queued <= now())"
        ).fetchone()
        if left is not None and left[0] == 0:
            break
        time.sleep(1)
    return time.monotonic() - began


def _states(store: psycopg.Connection[tuple[object, ...]]) -> str:
    rows = store.execute("SELECT state, count(*) FROM hrsync_jobrun GROUP BY state").fetchall()
    return ", ".join(f"{state} {n}" for state, n in sorted(rows)) or "no job runs yet"


def _throughput_figures(
    store: psycopg.Connection[tuple[object, ...]], stopped: datetime
) -> dict[str, float]:
    rows = store.execute(
        "SELECT key, scheduled_for, created, queued, started, finished, state, attempts, "
        "jsonb_array_length(history) FROM hrsync_jobrun "
        "WHERE kind = 'connection' AND started_by = 'schedule'"
    ).fetchall()
    if not rows:
        raise RuntimeError("the scheduler queued no connection runs")
    created = dict(store.execute("SELECT key, created FROM hrsync_connection").fetchall())
    runs = store.execute(
        "SELECT count(*), count(*) FILTER (WHERE id NOT IN "
        "(SELECT run_id FROM hrsync_jobrun WHERE run_id IS NOT NULL)) "
        "FROM hrsync_run WHERE started_by = 'schedule'"
    ).fetchone()
    assert runs is not None
    runs_total, unlinked_runs = runs
    states = Counter(row[6] for row in rows)
    queue_lag = [(row[3] - row[1]).total_seconds() for row in rows]
    start_lag = [(row[4] - row[1]).total_seconds() for row in rows if row[4] is not None]
    executions = sum(row[8] for row in rows)
    once = sum(1 for row in rows if row[6] == "done" and row[7] == 1 and row[8] == 1)
    duplicates = sum(max(0, row[8] - 1) for row in rows) + unlinked_runs
    first_slot = min(row[1] for row in rows)
    # Over every run finished, drained ones included: the demand rate while the workers keep up,
    # their capacity when a backlog builds.
    finished = [row[5] for row in rows if row[5] is not None]
    window = (max(finished, default=first_slot) - first_slot).total_seconds() or math.nan
    finishes, starts = _per_slot(rows, 5), _per_slot(rows, 4)
    drain = [(max(done) - slot).total_seconds() for slot, done in finishes.items()]
    # What the workers get through while they have a backlog: a slot's runs over the time from
    # its first start to its last finish.
    busy = [
        len(done) / seconds
        for slot, done in finishes.items()
        if (seconds := (max(done) - min(starts[slot])).total_seconds()) > 0
    ]
    # The tick stamps `queued` with its own start; the first start of a slot's runs shows when
    # the tick had committed and its ids had reached a worker.
    reached = [
        (min(starts) - queued).total_seconds()
        for queued, starts in _per_slot(rows, 4, by=3).items()
    ]
    missed = _missed_slots(rows, created, stopped - timedelta(seconds=15))
    print(
        f"{len(rows)} scheduled slots over {len(created)} connections "
        f"({', '.join(f'{s} {n}' for s, n in sorted(states.items()))}); {executions} executions, "
        f"{runs_total} runs recorded"
    )
    print(
        f"scheduler lag (queued - slot): p50 {_percentile(queue_lag, 50):.1f} s, "
        f"p95 {_percentile(queue_lag, 95):.1f} s, max {max(queue_lag):.1f} s; "
        f"a tick's first run started {max(reached, default=math.nan):.1f} s after it at worst"
    )
    print(
        f"start lag (started - slot): p50 {_percentile(start_lag, 50):.1f} s, "
        f"p95 {_percentile(start_lag, 95):.1f} s, max {max(start_lag, default=math.nan):.1f} s; "
        f"a slot's last run finished {max(drain, default=math.nan):.1f} s after it at worst"
    )
    print(
        f"{len(finished)} runs finished in the {window:.0f} s from the first slot: "
        f"{len(finished) / window:.1f} runs/s (demand {len(created) / 60:.1f}/s), "
        f"{_percentile(busy, 50):.1f} runs/s while busy with a slot; "
        f"{once} of {len(rows)} slots ran exactly once, {duplicates} extra executions, "
        f"{missed} slots missed"
    )
    return {
        "scheduler_lag_p95_s": _percentile(queue_lag, 95),
        "tick_to_first_start_s": max(reached, default=math.nan),
        "start_lag_p95_s": _percentile(start_lag, 95),
        "slot_drain_max_s": max(drain, default=math.nan),
        "runs_per_second": len(finished) / window,
        "busy_runs_per_second": _percentile(busy, 50),
        "slots": float(len(rows)),
        "slots_run_once": float(once),
        "duplicate_runs": float(duplicates),
        "missed_slots": float(missed),
        "failed_runs": float(states.get("failed", 0)),
    }


def _per_slot(
    rows: Sequence[tuple[object, ...]], column: int, by: int = 1
) -> dict[datetime, list[datetime]]:
    """The non-null values of `column` grouped by the value of column `by` (the slot)."""
    grouped: dict[datetime, list[datetime]] = defaultdict(list)
    for row in rows:
        key, value = row[by], row[column]
        if isinstance(key, datetime) and isinstance(value, datetime):
            grouped[key].append(value)
    return grouped


def _missed_slots(
    rows: Sequence[tuple[object, ...]], created: dict[str, datetime], until: datetime
) -> int:
    """Minute slots after each connection's creation and before `until` without a JobRun."""
    present: dict[str, set[datetime]] = defaultdict(set)
    for row in rows:
        key, slot = row[0], row[1]
        assert isinstance(key, str) and isinstance(slot, datetime)
        present[key].add(slot)
    missed = 0
    for key, since in created.items():
        slot = since.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while slot <= until:
            missed += slot not in present[key]
            slot += timedelta(minutes=1)
    return missed


def _throughput_config(dc: SambaDC, base: str, users_ou: str, count: int) -> str:
    # The source is never imported (it has no schedule), so the connections have no people to
    # provision; its URL is never called.
    lines = [
        "[sources.flex]",
        'type = "flexhrm"',
        'url = "http://127.0.0.1:9/api/"',
        'instance = "acme"',
        'username = "api"',
        'password_env = "FLEX_PASSWORD"',
    ]
    for number in range(1, count + 1):
        lines += [
            "",
            f"[connections.sched-{number:04d}]",
            'source = "flex"',
            'type = "active_directory"',
            'state = "active"',
            'schedule = "* * * * *"',
            *_ad_lines(dc, base, users_ou),
        ]
    return "\n".join(lines) + "\n"


def _missing_servers() -> str:
    """Why the throughput part cannot run here, or "" when PostgreSQL and Redis answer."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=5):
            pass
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_URL} does not answer ({error})"
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5) as probe:
            probe.ping()
    except redis.RedisError as error:
        return f"Redis at {REDIS_URL} does not answer ({error})"
    return ""


@contextmanager
def _throwaway_database() -> Iterator[str]:
    name = f"hrsync_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


# --- shared ------------------------------------------------------------------------------------


@contextmanager
def _samba(workdir: Path) -> Iterator[SambaDC]:
    dc = SambaDC.provision(workdir)
    dc.start()
    try:
        dc.wait_ready(timeout=120)
        yield dc
    finally:
        dc.stop()


def _env(home: Path, dc: SambaDC) -> dict[str, str]:
    """A clean environment: SQLite and its queue in `home` unless the caller adds otherwise."""
    env = {name: value for name, value in os.environ.items() if name not in DROPPED_ENV}
    return env | {
        "HRSYNC_HOME": str(home),
        "FLEX_PASSWORD": FLEX_PASSWORD,
        "AD_PASSWORD": dc.admin_password,
    }


def _ad_lines(dc: SambaDC, base_dn: str, users_ou: str) -> list[str]:
    return [
        f'url = "{dc.url}"',
        f'ca_file = "{dc.ca_file}"',
        f'bind_dn = "{dc.bind_dn}"',
        'password_env = "AD_PASSWORD"',
        f'base_dn = "{base_dn}"',
        f'users_ou = "{users_ou}"',
        f'upn_suffix = "{dc.realm.lower()}"',
    ]


def _directory_config(dc: SambaDC, users_ou: str) -> ActiveDirectoryConfig:
    return ActiveDirectoryConfig(
        url=dc.url,
        ca_file=str(dc.ca_file),
        bind_dn=dc.bind_dn,
        password=dc.admin_password,
        base_dn=dc.base_dn,
        users_ou=users_ou,
        upn_suffix=dc.realm.lower(),
    )


class Children:
    """hrsync processes started by the benchmark, each logging to its own file."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.running[name] = process
        return process

    def check(self) -> None:
        """Raise when one of them has exited on its own, with the end of its log."""
        for name, process in self.running.items():
            if process.poll() is not None:
                tail = "\n".join(self._log(name).splitlines()[-30:])
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM, then SIGKILL when it has not exited after STOP_S seconds."""
        name = next(name for name, running in self.running.items() if running is process)
        del self.running[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within {STOP_S:.0f} s; killed")
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        for process in reversed(list(self.running.values())):
            self.stop(process)

    def _log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")


@contextmanager
def _children(logs: Path) -> Iterator[Children]:
    children = Children(logs)
    try:
        yield children
    finally:
        children.stop_all()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_answering(url: str, children: Children, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children.check()
        with contextlib.suppress(httpx2.TransportError):
            if httpx2.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _peak_rss_mb(pid: int) -> float:
    """A running process's peak resident memory (VmHWM), 0 when it cannot be read."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _percentile(values: Sequence[float], percent: float) -> float:
    """Nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]
