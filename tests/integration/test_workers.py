"""Scheduling and execution with real processes: the Huey queue, schedulers and workers.

- Exactly once: two schedulers and three workers serve many one-minute connections against a
  real Samba AD DC for several minutes; every slot runs exactly once. In one process on SQLite
  (`Background`: scheduler and worker threads, the SQLite queue file), and as separate processes
  on PostgreSQL with the Redis queue (three `hrsync worker` processes, two scheduler processes). The
  schedulers' clock runs 30 times faster than the wall clock so that six minutes of slots take
  seconds; the workers and leases keep real time.
- A worker killed with SIGKILL mid-run: its lease expires, the sweeper sends the run again,
  another worker finishes it, and Samba holds each person's account once.
- A target that fails twice and then recovers: three attempts with growing gaps, then done —
  through `hrsync serve`, which runs the scheduler and workers in its own process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.plans import NOTHING
from tests.servers import database_url, redis_queue
from tests.tcp_relay import TcpRelay

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
SPEED = 30.0
"""How much faster than the wall clock the schedulers' clock runs in the exactly-once tests."""
MINUTES = 6
"""Slots per connection in the exactly-once tests: one a minute for six (fast) minutes."""


@dataclass
class Site:
    """A throwaway hrsync installation: its environment, data directory and directory OU."""

    env: dict[str, str]
    home: Path
    base_dn: str
    directory: DirectoryClient

    def hrsync(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [HRSYNC, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def python(self, script: str, timeout: float = 600) -> Any:
        """Run a script with Django set up on this site's store; what it printed last, as JSON."""
        done = subprocess.run(
            [sys.executable, "-c", PRELUDE + script],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def spawn(self, *args: str, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.home / f"{args[0]}-{uuid.uuid4().hex[:6]}.log").open("wb")
        return subprocess.Popen(
            args, env=self.env | (extra or {}), stdout=log, stderr=subprocess.STDOUT
        )

    def accounts(self) -> list[dict[str, list[bytes]]]:
        found = self.directory.search(self.base_dn, "(objectClass=user)", ["employeeNumber"])
        return [values for _, values in found]


PRELUDE = """
import json, os, threading, time
from datetime import UTC, datetime, timedelta
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
django.setup()
from django.db.models import Count
from django.utils import timezone
from hrsync.app import models
"""


@pytest.fixture
def site_factory(
    samba_dc: SambaDC, admin_directory: DirectoryClient, tmp_path: Path
) -> Iterator[Any]:
    made: list[str] = []

    def make(
        connections: int,
        schedule: str,
        database: str | None,
        queue: dict[str, str] | None,
        **source: str,
    ) -> Site:
        base = f"OU=jobs{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
        admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
        made.append(base)
        home = tmp_path / "home"
        home.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "HRSYNC_QUEUE_URL", "HRSYNC_QUEUE_NAME")
        }
        env |= {"DATABASE_URL": database} if database else {}
        env |= queue or {}
        env |= {
            "HRSYNC_HOME": str(home),
            "FLEX_PASSWORD": "flex-secret",
            "AD_PASSWORD": samba_dc.admin_password,
        }
        toml = home / "hrsync.toml"
        toml.write_text(_config(samba_dc, base, connections, schedule, **source), "utf-8")
        site = Site(env, home, base, admin_directory)
        site.hrsync("config", "load", str(toml))
        return site

    yield make
    for base in made:
        admin_directory.delete(base, with_subtree=True)


def _config(
    dc: SambaDC,
    base: str,
    connections: int,
    schedule: str,
    url: str = "http://127.0.0.1:9/api/",
    ad_url: str = "",
) -> str:
    lines = [
        "[sources.flex]",
        'type = "flexhrm"',
        f'url = "{url}"',
        'instance = "acme"',
        'username = "api"',
        'password_env = "FLEX_PASSWORD"',
    ]
    for n in range(connections):
        lines += [
            f"[connections.c{n}]",
            'source = "flex"',
            'type = "active_directory"',
            f'url = "{ad_url or dc.url}"',
            f'ca_file = "{dc.ca_file}"',
            f'bind_dn = "{dc.bind_dn}"',
            'password_env = "AD_PASSWORD"',
            f'base_dn = "{base}"',
            f'users_ou = "OU=People,{base}"',
            f'upn_suffix = "{dc.realm.lower()}"',
            f'schedule = "{schedule}"',
            'state = "active"',
        ]
    return "\n".join(lines) + "\n"


# --- exactly once ----------------------------------------------------------------------------

FAST_CLOCK = """
SPEED, MINUTES = float(os.environ["SPEED"]), int(os.environ["MINUTES"])
START = datetime.fromisoformat(os.environ["START"])
EPOCH = float(os.environ["EPOCH"])
END = START + timedelta(minutes=MINUTES)

def clock():
    # Stands at START until EPOCH (the processes have started by then), then runs SPEED times
    # faster than the wall clock, and stops at END.
    return min(END, START + timedelta(seconds=max(0.0, time.time() - EPOCH) * SPEED))
"""

SET_START = """
start = (timezone.now() - timedelta(days=1)).replace(second=30, microsecond=0)
models.Connection.objects.update(created=start)
models.Source.objects.update(created=start)
print(json.dumps({"start": start.isoformat(), "epoch": time.time() + 8}))
"""

IN_ONE_PROCESS = (
    FAST_CLOCK
    + """
from hrsync.app.jobs.workers import Background
background = Background(workers=3, interval=0.2, clock=clock, schedulers=2)
background.start()
while clock() < END or models.JobRun.objects.exclude(state__in=["done", "failed"]).exists():
    time.sleep(0.2)
time.sleep(1)  # a last tick at END inserts nothing new
background.stop()
print(json.dumps({"stopped": True}))
"""
)

SCHEDULER_PROCESS = (
    FAST_CLOCK
    + """
import signal
from hrsync.app.jobs.workers import run_scheduler
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
run_scheduler(stop, 0.2, clock)
print(json.dumps({"stopped": True}))
"""
)

OUTSTANDING = """
print(json.dumps(models.JobRun.objects.exclude(state__in=["done", "failed"]).count()))
"""

RESULT = """
from collections import Counter
jobs = models.JobRun.objects.filter(kind="connection").order_by("key", "scheduled_for")
slots = {}
for job in jobs:
    slots.setdefault(job.key, []).append(job.scheduled_for.isoformat())
runs = dict(models.Run.objects.values_list("connection__key").annotate(n=Count("pk")))
print(json.dumps({
    "slots": slots,
    "runs": runs,
    "states": dict(Counter(f"{s}/{a}" for s, a in jobs.values_list("state", "attempts"))),
    "linked": jobs.exclude(run=None).values("run").distinct().count(),
    "errors": sorted({job.error for job in jobs if job.error})[:5],
    "workers": len(set(jobs.values_list("worker", flat=True))),
}))
"""


def _assert_exactly_once(result: dict[str, Any], connections: int, start: str) -> None:
    """Every connection ran each of its six minute slots once: one JobRun, one attempt, one Run."""
    first = datetime.fromisoformat(start).replace(second=0)
    expected = [(first + timedelta(minutes=m)).isoformat() for m in range(1, MINUTES + 1)]
    assert result["errors"] == []
    assert result["slots"] == {f"c{n}": expected for n in range(connections)}
    assert result["runs"] == {f"c{n}": MINUTES for n in range(connections)}
    assert result["states"] == {"done/1": connections * MINUTES}
    assert result["linked"] == connections * MINUTES


def _clock_env(site: Site) -> dict[str, str]:
    started = site.python(SET_START)
    return {
        "SPEED": str(SPEED),
        "MINUTES": str(MINUTES),
        "START": started["start"],
        "EPOCH": str(started["epoch"]),
    }


def test_one_process_on_sqlite_runs_every_slot_exactly_once(site_factory: Any) -> None:
    connections = 30
    site = site_factory(connections, "* * * * *", database=None, queue=None)
    clock = _clock_env(site)
    site.env |= clock
    assert site.python(IN_ONE_PROCESS, timeout=600) == {"stopped": True}
    result = site.python(RESULT)
    _assert_exactly_once(result, connections, clock["START"])
    assert (site.home / "queue.sqlite3").exists()  # the default queue: a file, nothing to install


def test_two_schedulers_and_three_workers_on_postgresql_and_redis(site_factory: Any) -> None:
    connections = 200
    with database_url("postgresql") as database, redis_queue() as queue:
        site = site_factory(connections, "* * * * *", database=database, queue=queue)
        clock = _clock_env(site)
        script = PRELUDE + SCHEDULER_PROCESS
        schedulers = [site.spawn(sys.executable, "-c", script, extra=clock) for _ in range(2)]
        workers = [site.spawn(HRSYNC, "worker", "--workers", "2") for _ in range(3)]
        try:
            deadline = time.monotonic() + 480
            time.sleep(MINUTES * 60 / SPEED)  # every slot is due by now
            while site.python(OUTSTANDING) != 0:
                assert time.monotonic() < deadline, "the workers did not drain the queue"
                assert all(p.poll() is None for p in schedulers + workers), "a process died"
                time.sleep(1)
        finally:
            for process in schedulers + workers:
                process.send_signal(signal.SIGTERM)
            for process in schedulers + workers:
                process.wait(timeout=120)
        result = site.python(RESULT)
    _assert_exactly_once(result, connections, clock["START"])
    assert result["workers"] > 1  # the work was shared


# --- a worker killed mid-run -----------------------------------------------------------------

JOB = """
job = models.JobRun.objects.filter(kind="connection").order_by("-pk").first()
print(json.dumps(None if job is None else {
    "state": job.state, "attempts": job.attempts, "worker": job.worker, "error": job.error,
    "history": job.history, "run": job.run_id,
}))
"""


@pytest.fixture
def simulator() -> Iterator[FlexSimulator]:
    sim = FlexSimulator(
        generate_dataset(count=300, seed=5), credentials=Credentials("acme", "api", "flex-secret")
    )
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


def _wait_for(site: Site, until: Any, seconds: float, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job = site.python(JOB)
        if job is not None and until(job):
            return dict(job)
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {job}"
        time.sleep(0.5)


def test_a_worker_killed_mid_run_loses_its_lease_and_another_finishes_the_run(
    site_factory: Any, simulator: FlexSimulator
) -> None:
    with database_url("postgresql") as database, redis_queue() as queue:
        site = site_factory(1, "on-change", database=database, queue=queue, url=simulator.url)
        site.env |= {"HRSYNC_LEASE_SECONDS": "3"}
        processes = [site.spawn(HRSYNC, "scheduler", "--interval", "1")]
        processes += [site.spawn(HRSYNC, "worker", "--workers", "1") for _ in range(2)]
        try:
            site.hrsync("import", "flex")  # 300 joiners: queues the on-change run
            running = _wait_for(site, lambda j: j["state"] == "running", 120, "the run to start")
            deadline = time.monotonic() + 300
            while len(site.accounts()) < 40:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            victim = int(running["worker"].split(":")[1])
            os.kill(victim, signal.SIGKILL)
            done = _wait_for(site, lambda j: j["state"] == "done", 300, "the retried run")
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=120)
        simulated = json.loads(site.hrsync("run", "c0", "--simulate", "--json"))
    assert done["attempts"] == 2
    assert int(done["worker"].split(":")[1]) != victim
    lost, finished = done["history"]
    assert (lost["outcome"], lost["worker"]) == ("lost", running["worker"])
    assert "lease" in lost["error"]
    assert finished["outcome"] == "done"
    owners = Counter(account["employeeNumber"][0] for account in site.accounts())
    assert owners and owners.most_common(1)[0][1] == 1, "a person got two accounts"
    assert simulated["plan"] == NOTHING


# --- a target failing twice, then recovering --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_target_failing_twice_then_recovering_is_tried_three_times_with_growing_gaps(
    samba_dc: SambaDC, site_factory: Any, simulator: FlexSimulator
) -> None:
    relay = TcpRelay(samba_dc.host, 636)
    relay.start()
    relay.cut()  # the directory is unreachable: connections are refused
    site = site_factory(
        1,
        "on-change",
        database=None,
        queue=None,
        url=simulator.url,
        ad_url=f"ldaps://{relay.host}:{relay.port}",
    )
    # The relay is restored once two failures are seen; the third attempt waits 5-10 s, time
    # enough for a polling subprocess on a loaded machine to see the second failure first.
    site.env |= {"HRSYNC_RETRY_BASE_SECONDS": "5"}
    port = _free_port()
    serve = site.spawn(HRSYNC, "serve", "--port", str(port), "--workers", "2")
    try:
        site.hrsync("import", "flex")
        _wait_for(site, lambda j: j["attempts"] == 2 and j["state"] == "queued", 120, "2 failures")
        relay.restore()
        done = _wait_for(site, lambda j: j["state"] == "done", 120, "the third attempt")
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=120)
        relay.cut()
    first, second, third = done["history"]
    assert [entry["outcome"] for entry in done["history"]] == ["failed", "failed", "done"]
    assert first["transient"] and second["transient"]
    assert done["attempts"] == 3 and done["run"] is not None

    def delay(entry: dict[str, Any]) -> float:
        planned = datetime.fromisoformat(entry["retry_at"]) - datetime.fromisoformat(
            entry["finished"]
        )
        return planned.total_seconds()

    assert 2.5 <= delay(first) <= 5 < delay(second) <= 10  # base 5 s, doubled, equal jitter
    for before, after in ((first, second), (second, third)):
        assert datetime.fromisoformat(after["started"]) >= datetime.fromisoformat(
            before["retry_at"]
        )
    assert len(site.accounts()) > 0
