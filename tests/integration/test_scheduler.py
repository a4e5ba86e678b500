"""The scheduler against a real database: exactly-once ticks (two schedulers racing in real
threads, each with its own connection, on SQLite and on PostgreSQL), leases taken over only when
expired, the sweeper, on-change queueing, a worker step that records a failure, and the
`scheduler tick` and `runs list` commands.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from tests.servers import database_url
from tests.sites import OFFLINE_CONFIG, cli_env

from hrsync.app.jobs import leases, scheduler, work
from hrsync.app.models import Connection, JobRun, Lease, Run, Source
from hrsync.app.runs.connection_run import run_connection

START = datetime(2026, 5, 4, 8, 0, 30, tzinfo=UTC)
EVERY_2 = "*/2 * * * *"


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.fixture
def source() -> Source:
    row = Source.objects.create(key="flex", kind="flexhrm", schedule=EVERY_2)
    Source.objects.filter(pk=row.pk).update(created=START)
    row.refresh_from_db()
    return row


def add_connection(source: Source, key: str, schedule: str, state: str = "active") -> Connection:
    row = Connection.objects.create(
        key=key, source=source, kind="ad", state=state, schedule=schedule
    )
    Connection.objects.filter(pk=row.pk).update(created=START)
    return row


def slots(kind: str, key: str) -> list[datetime]:
    rows = JobRun.objects.filter(kind=kind, key=key).order_by("scheduled_for")
    return list(rows.values_list("scheduled_for", flat=True))


# --- the tick, in-process ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tick_inserts_each_due_slot_once_and_advances_the_next_run(source: Source) -> None:
    add_connection(source, "ad", EVERY_2)
    first = scheduler.tick(at(2))
    assert {(job.kind, job.key, job.scheduled_for) for job in first} == {
        ("import", "flex", at(1.5)),
        ("connection", "ad", at(1.5)),
    }
    # A second scheduler ticking the same moment finds both slots taken.
    assert scheduler.tick(at(2)) == []
    assert Connection.objects.get(key="ad").next_run_at == at(3.5)
    assert all(job.state == "queued" and job.started_by == "schedule" for job in first)


@pytest.mark.django_db
def test_overdue_slots_after_downtime_run_once(source: Source) -> None:
    scheduler.tick(at(2))
    after_downtime = scheduler.tick(at(2 + 3 * 60))
    assert [job.scheduled_for for job in after_downtime] == [at(2 + 3 * 60 - 0.5)]
    assert len(slots("import", "flex")) == 2


@pytest.mark.django_db
def test_only_active_clock_schedules_are_ticked_and_on_change_is_queued_by_imports(
    source: Source,
) -> None:
    add_connection(source, "draft", EVERY_2, state="draft")
    add_connection(source, "changes", "on-change")
    add_connection(source, "broken", "every day")
    Connection.objects.filter(key=add_connection(source, "nowhere", EVERY_2).key).update(
        time_zone="Europe/Nowhere"
    )
    ticked = scheduler.tick(at(2))
    assert {job.key for job in ticked} == {"flex"}
    queued = scheduler.queue_on_change("flex", at(2.2))
    assert [(job.key, job.started_by, job.scheduled_for) for job in queued] == [
        ("changes", "on-change", at(2.2))
    ]
    # The tick's own baseline counts only scheduled slots: on-change runs do not shift it.
    assert scheduler.tick(at(4))[0].scheduled_for == at(3.5)


# --- leases, the sweeper, the worker step --------------------------------------------------------


@pytest.mark.django_db
def test_a_lease_is_taken_over_only_once_expired() -> None:
    assert leases.acquire_lease("ad", "worker-a", at(0), ttl=timedelta(minutes=5))
    assert not leases.acquire_lease("ad", "worker-b", at(4))
    assert leases.renew_lease("ad", "worker-a", at(4), ttl=timedelta(minutes=5))
    assert not leases.acquire_lease("ad", "worker-b", at(8))
    assert leases.acquire_lease("ad", "worker-b", at(9.5))
    assert Lease.objects.get(connection_key="ad").owner == "worker-b"
    # The crashed worker coming back has lost it.
    assert not leases.renew_lease("ad", "worker-a", at(10))
    leases.release_lease("ad", "worker-a")
    assert Lease.objects.filter(connection_key="ad", owner="worker-b").exists()


@pytest.mark.django_db
def test_sweep_requeues_a_crashed_workers_run_and_one_queued_too_long(source: Source) -> None:
    add_connection(source, "ad", EVERY_2)
    crashed, waiting = scheduler.tick(at(2))
    JobRun.objects.filter(pk=crashed.pk).update(
        state="running", worker="worker-a", started=at(2), attempts=1
    )
    leases.acquire_lease(work.lease_name(crashed), "worker-a", at(2), timedelta(minutes=5))
    assert scheduler.sweep(at(5)) == []  # the lease is live, and nothing waited 15 minutes
    requeued = scheduler.sweep(at(20))
    assert {job.pk for job in requeued} == {crashed.pk, waiting.pk}
    crashed.refresh_from_db()
    assert (crashed.state, crashed.worker, crashed.attempts) == ("queued", "", 1)
    assert "lease of worker worker-a expired" in crashed.error
    # Another worker takes the expired lease over.
    assert leases.acquire_lease(work.lease_name(crashed), "worker-b", at(20))


@pytest.mark.django_db
def test_a_run_started_by_hand_refuses_while_another_run_holds_the_connection(
    source: Source,
) -> None:
    add_connection(source, "ad", EVERY_2)
    assert leases.acquire_lease("ad", "worker-a", timezone.now())
    with pytest.raises(leases.ConnectionBusyError, match=r"ad is running now \(worker-a\)"):
        run_connection("ad", started_by="cli")
    assert not Run.objects.exists()  # refused before anything was recorded
    with leases.holding("other") as owner:
        assert Lease.objects.get(connection_key="other").owner == owner
        with pytest.raises(leases.ConnectionBusyError), leases.holding("other"):
            pass  # a nested run of the same connection
    assert not Lease.objects.filter(connection_key="other").exists()


@pytest.mark.django_db
def test_a_lease_of_a_process_gone_from_this_host_is_taken_over_at_once() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    here = socket.gethostname()
    now = timezone.now()
    assert leases.acquire_lease("killed", f"{here}:{gone.pid}:MainThread:ab12", now)
    assert leases.acquire_lease("elsewhere", f"other-host:{gone.pid}:MainThread:cd34", now)
    with leases.holding("killed") as owner:  # the owner was killed: no wait for the expiry
        assert Lease.objects.get(connection_key="killed").owner == owner
    with pytest.raises(leases.ConnectionBusyError), leases.holding("elsewhere"):
        pass  # another host's process may be alive: its lease must expire first


@pytest.mark.django_db
def test_a_job_that_loses_its_worker_on_every_attempt_fails_instead_of_looping(
    source: Source, settings: Any
) -> None:
    settings.HRSYNC_MAX_ATTEMPTS = 3
    add_connection(source, "ad", EVERY_2)
    job = JobRun.objects.create(kind="connection", key="ad", scheduled_for=at(1), queued=at(1))
    for attempt in (1, 2, 3):
        JobRun.objects.filter(pk=job.pk).update(
            state="running", worker=f"w{attempt}", started=at(attempt), attempts=attempt
        )
        requeued = scheduler.sweep(at(attempt + 0.5))  # no lease: the worker is gone
        job.refresh_from_db()
        assert [j.pk for j in requeued] == ([job.pk] if attempt < 3 else [])
    assert job.state == "failed" and job.finished == at(3.5)
    assert "lost on each of 3 attempts" in job.error
    assert [entry["outcome"] for entry in job.history] == ["lost", "lost", "lost"]


@pytest.mark.django_db
def test_a_worker_records_a_failed_run_and_releases_the_lease(source: Source) -> None:
    add_connection(source, "ad", EVERY_2)
    JobRun.objects.create(kind="connection", key="gone", scheduled_for=at(1), queued=at(1))
    job = work.claim_and_run("worker-a", now=at(2))
    assert job is not None
    job.refresh_from_db()
    assert (job.state, job.attempts, job.worker) == ("failed", 1, "worker-a")
    assert job.error
    assert not Lease.objects.exists()
    assert work.claim_and_run("worker-a", now=at(2)) is None


@pytest.mark.django_db
def test_a_worker_skips_a_connection_whose_lease_another_worker_holds(source: Source) -> None:
    JobRun.objects.create(kind="connection", key="busy", scheduled_for=at(1), queued=at(1))
    leases.acquire_lease("busy", "worker-a", at(1))
    assert work.claim_and_run("worker-b", now=at(2)) is None
    assert JobRun.objects.get(key="busy").state == "queued"


# --- two schedulers racing, real threads, SQLite and PostgreSQL ---------------------------------

PRELUDE = """
import json, os, threading, time
from datetime import UTC, datetime, timedelta
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
django.setup()
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
call_command("migrate", interactive=False, verbosity=0)
from hrsync.app import models
from hrsync.app.jobs import leases, scheduler
"""
"""What each script run in its own process starts with: Django on the store of `store_env`."""

RACE = """

START = datetime(2026, 5, 4, 8, 0, 30, tzinfo=UTC)
source = models.Source.objects.create(key="flex", kind="flexhrm", schedule="*/2 * * * *")
for n in range(CONNECTIONS):
    models.Connection.objects.create(
        key=f"c{n}", source=source, kind="ad", state="active", schedule="*/2 * * * *"
    )
models.Source.objects.update(created=START)
models.Connection.objects.update(created=START)
connection.close()
moments = [START + timedelta(minutes=k) for k in range(1, 11)]
barrier = threading.Barrier(2)
inserted, errors = [], []

def run_scheduler():
    try:
        for moment in moments:
            barrier.wait()
            inserted.extend((j.kind, j.key, j.scheduled_for.isoformat())
                            for j in scheduler.tick(moment))
    except Exception as error:
        errors.append(repr(error))
        barrier.abort()
    finally:
        connection.close()

threads = [threading.Thread(target=run_scheduler) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
rows = list(models.JobRun.objects.values_list("kind", "key", "scheduled_for"))
print(json.dumps({
    "inserted": len(inserted), "distinct": len(set(inserted)), "rows": len(rows),
    "errors": errors,
}))
"""
CONNECTIONS = 20


@pytest.fixture(params=["sqlite", "postgresql"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    with database_url(request.param) as url:
        yield cli_env(tmp_path, url)


def run_script(script: str, env: dict[str, str]) -> Any:
    """Run PRELUDE + script in its own process; what it printed last, as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_schedulers_racing_insert_each_slot_exactly_once(store_env: dict[str, str]) -> None:
    result = run_script(RACE.replace("CONNECTIONS", str(CONNECTIONS)), store_env)
    # 10 ticks one minute apart from 08:01:30: slots 08:02 … 08:10, five per source/connection.
    expected = (CONNECTIONS + 1) * 5
    assert result == {"inserted": expected, "distinct": expected, "rows": expected, "errors": []}


LEASES = """

START = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)
ROUNDS, WORKERS = 10, 6
job = models.JobRun.objects.create(
    kind="connection", key="ad", scheduled_for=START, queued=START,
    state="running", worker="crashed", started=START, attempts=1,
)
leases.acquire_lease("ad", "crashed", START, TTL)
connection.close()
barrier = threading.Barrier(WORKERS)
wins, requeued, errors = [], [], []

def compete(name):
    try:
        for round in range(1, ROUNDS + 1):
            now = START + round * (TTL + timedelta(seconds=1))  # the last holder's lease expired
            barrier.wait()
            if leases.acquire_lease("ad", name, now, TTL):
                wins.append((round, name))
            if round == 1:
                requeued.extend(j.pk for j in scheduler.sweep(now))
    except Exception as error:
        errors.append(repr(error))
        barrier.abort()
    finally:
        connection.close()

threads = [threading.Thread(target=compete, args=(f"w{n}",)) for n in range(WORKERS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
job.refresh_from_db()
print(json.dumps({
    "rounds_won": sorted({round for round, _ in wins}), "wins": len(wins),
    "requeued": requeued, "job": [job.pk, job.state], "errors": errors,
}))
"""


def test_racing_workers_take_an_expired_lease_over_once_and_sweep_once(
    store_env: dict[str, str],
) -> None:
    result = run_script(LEASES, store_env)
    job_id = result["job"][0]
    assert result == {
        "rounds_won": list(range(1, 11)),
        "wins": 10,
        "requeued": [job_id],
        "job": [job_id, "queued"],
        "errors": [],
    }


HEARTBEAT = """

ttl = timedelta(seconds=1.5)
assert leases.acquire_lease("ad", "w1", timezone.now(), ttl)
with leases.heartbeat("ad", "w1", ttl):
    time.sleep(3 * ttl.total_seconds())  # a run three times longer than the lease
    kept = not leases.acquire_lease("ad", "w2", timezone.now(), ttl)
time.sleep(ttl.total_seconds() + 0.5)  # no more heartbeats: the lease expires
taken = leases.acquire_lease("ad", "w2", timezone.now(), ttl)
print(json.dumps({"kept": kept, "taken": taken}))
"""


def test_a_heartbeat_keeps_the_lease_of_a_long_run_and_stopping_it_lets_it_expire(
    store_env: dict[str, str],
) -> None:
    assert run_script(HEARTBEAT, store_env) == {"kept": True, "taken": True}


# --- the command line ----------------------------------------------------------------------------

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
CONFIG = OFFLINE_CONFIG + 'state = "active"\n'
PREPARE = """
import os, django
from datetime import timedelta
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
django.setup()
from django.utils import timezone
from hrsync.app.models import Connection, Source
hour_ago = timezone.now() - timedelta(hours=1)
# The config file takes no schedules yet: set them in the store, as the console would.
Source.objects.update(created=hour_ago, schedule="* * * * *")
Connection.objects.update(created=hour_ago, schedule="* * * * *")
"""


def test_the_scheduler_tick_command_runs_what_is_due_and_runs_list_shows_it(
    tmp_path: Path,
) -> None:
    # Retries wait minutes: a first retry falling due within the test's own CLI calls (each a
    # few seconds on a loaded machine) would be run by the second tick and look like a rerun.
    env = cli_env(tmp_path, FLEX_PASSWORD="x", AD_PASSWORD="x", HRSYNC_RETRY_BASE_SECONDS="600")

    def hrsync(*args: str) -> str:
        done = subprocess.run(
            [HRSYNC, *args], env=env, capture_output=True, text=True, check=True, timeout=120
        )
        return done.stdout

    (tmp_path / "hrsync.toml").write_text(CONFIG, encoding="utf-8")
    hrsync("config", "load", str(tmp_path / "hrsync.toml"))
    subprocess.run([sys.executable, "-c", PREPARE], env=env, check=True, timeout=60)
    first = json.loads(hrsync("scheduler", "tick", "--json"))
    assert (first["queued"], first["requeued"]) == (2, 0)
    # Both servers are unreachable: a transient failure, so each job waits for its next attempt
    # with the reason; the connection's Run is linked.
    assert [(row["kind"], row["key"], row["state"]) for row in first["ran"]] == [
        ("import", "flex", "queued"),
        ("connection", "ad", "queued"),
    ]
    assert all(row["attempts"] == 1 for row in first["ran"])
    assert all(
        row["error"].startswith("attempt 1 failed: ") and "next attempt at" in row["error"]
        for row in first["ran"]
    )
    runs = json.loads(hrsync("runs", "list", "--json"))
    assert [(run["id"], run["connection"], run["started_by"], run["status"]) for run in runs] == [
        (first["ran"][1]["run"], "ad", "schedule", "failed")
    ]
    job = runs[0]["job"]  # the run's scheduler record: attempts, worker, times
    assert (job["kind"], job["key"], job["state"], job["attempts"]) == (
        "connection",
        "ad",
        "queued",
        1,
    )
    assert job["queued"] > job["scheduled_for"] and job["started"] and job["finished"] is None
    jobs = json.loads(hrsync("runs", "list", "--jobs", "--json"))
    assert {(row["kind"], row["key"]) for row in jobs} == {("import", "flex"), ("connection", "ad")}
    assert all(row["queued"] and row["error"] for row in jobs)
    again = json.loads(hrsync("scheduler", "tick", "--json"))
    # The same slot never runs twice (a new minute may have brought the next one).
    handled = {(row["key"], row["scheduled_for"]) for row in first["ran"]}
    assert handled.isdisjoint((row["key"], row["scheduled_for"]) for row in again["ran"])
    assert "ad" in hrsync("runs", "list")
