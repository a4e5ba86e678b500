"""A connection's last, current and next run in the console (table and detail page) and the REST
API, from the scheduler's JobRun rows written here directly; and that the lists look them up
for a whole page at once, not once per connection."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.integration.api_data import client_for as api_client_for
from tests.integration.api_data import make_users

from hrsync.app.api.connections import ConnectionDetailOut, ConnectionPage
from hrsync.app.models import Connection, JobRun, Run, Source

pytestmark = pytest.mark.django_db
MONDAY = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
"""07:00 CET in Stockholm."""


def viewer() -> Client:
    client = Client()
    user = User.objects.create_user("console-viewer", password="x")
    user.groups.add(Group.objects.get(name="viewer"))
    client.force_login(user)
    return client


@pytest.fixture
def source() -> Source:
    return Source.objects.create(key="flex", kind="flexhrm")


def make_connection(source: Source, key: str, **fields: Any) -> Connection:
    values: dict[str, Any] = {
        "name": f"Conn {key}",
        "kind": "active_directory",
        "state": Connection.State.ACTIVE,
        "step": 7,
        "schedule": "0 6 * * *",
    }
    return Connection.objects.create(key=key, source=source, **(values | fields))


def job(key: str, state: str, slot: datetime, **fields: Any) -> JobRun:
    values: dict[str, Any] = {"kind": JobRun.Kind.CONNECTION, "queued": slot}
    return JobRun.objects.create(key=key, state=state, scheduled_for=slot, **(values | fields))


def finished_run(connection: Connection, status: str, finished: datetime, by: str) -> Run:
    return Run.objects.create(
        connection=connection, status=status, finished=finished, started_by=by
    )


def table_row(page: str, key: str) -> str:
    found = re.search(rf'<tr>\s*<th scope="row"><a href="/connections/{key}/">.*?</tr>', page, re.S)
    assert found is not None, f"no row of {key}"
    return " ".join(found.group(0).split())


def fact(page: str, term: str) -> str:
    found = re.search(rf"<dt>{term}</dt><dd>(.*?)</dd>", page, re.S)
    assert found is not None, f"no {term}"
    return " ".join(found.group(1).split())


def test_the_last_finished_job_run_shows_when_how_by_whom_and_where(source: Source) -> None:
    ad = make_connection(source, "ad", next_run_at=MONDAY + timedelta(days=1))
    run = finished_run(ad, "failed", MONDAY + timedelta(minutes=4), "schedule")
    job(ad.key, "done", MONDAY - timedelta(days=1), finished=MONDAY - timedelta(days=1))
    job(
        ad.key,
        "failed",
        MONDAY,
        started=MONDAY,
        finished=MONDAY + timedelta(minutes=5),
        attempts=3,
        worker="worker-2",
        run=run,
    )
    later = MONDAY + timedelta(hours=1)
    job("ad", "done", later, kind=JobRun.Kind.IMPORT, finished=later)  # a source named ad

    client = viewer()
    row = table_row(client.get("/connections/").content.decode(), "ad")
    detail = client.get("/connections/ad/").content.decode()
    for shown in (row, fact(detail, "Last run")):
        assert f'<a href="/runs/{run.pk}/">' in shown and "2026-03-02 07:05 CET" in shown
        assert '<span class="badge failed">failed</span>' in shown
        assert "by schedule, 3 attempts, on worker-2" in shown
    assert "2026-03-03 07:00 CET" in row and "2026-03-03 07:00 CET" in fact(detail, "Next run")


def test_a_done_job_whose_run_was_held_says_so(source: Source) -> None:
    ad = make_connection(source, "ad")
    held = finished_run(ad, "held", MONDAY, "on-change")
    job(ad.key, "done", MONDAY, finished=MONDAY, worker="w1", run=held, started_by="on-change")
    detail = fact(viewer().get("/connections/ad/").content.decode(), "Last run")
    assert '<span class="badge done">done</span> <span class="badge held">run held</span>' in detail
    assert "by on-change, on w1" in detail and "attempts" not in detail


def test_running_queued_and_waiting_jobs_show_since_when(source: Source) -> None:
    now = timezone.now()
    for key in ("running", "queued", "retry", "odd"):
        make_connection(source, key)
    job("running", "running", MONDAY, started=now - timedelta(minutes=2), queued=MONDAY)
    job("running", "queued", MONDAY + timedelta(minutes=1))
    job("queued", "queued", MONDAY, started_by="alice")
    job("retry", "queued", MONDAY, attempts=1, started=MONDAY, queued=now + timedelta(hours=2))
    job("retry", "done", MONDAY - timedelta(days=1), finished=MONDAY - timedelta(days=1))
    job("odd", "paused", MONDAY)  # a state this page does not know is shown as it is

    client = viewer()
    page = client.get("/connections/").content.decode()
    running = table_row(page, "running")
    assert "running since <time" in running and "queued" not in running and "never" not in running
    assert "queued since <time" in table_row(page, "queued")
    assert "by alice" in table_row(page, "queued")
    waiting = table_row(page, "retry")
    assert "queued, due <time" in waiting and "since" not in waiting
    assert "2026-03-01 07:00 CET" in waiting  # and its last finished run below
    assert "paused since <time" in table_row(page, "odd")
    detail = fact(client.get("/connections/running/").content.decode(), "Last run")
    assert detail.startswith('<span class="current-run">running since <time')


def test_on_change_inactive_and_not_yet_ticked_connections(source: Source) -> None:
    make_connection(source, "onchange", schedule="on-change")
    make_connection(
        source, "off", state=Connection.State.DEACTIVATED, next_run_at=MONDAY, schedule="0 6 * * *"
    )
    make_connection(source, "fresh", schedule="30 5 * * *", next_run_at=None)
    make_connection(source, "draft", state=Connection.State.DRAFT, step=2, schedule="")

    client = viewer()
    page = client.get("/connections/").content.decode()
    assert "<td>on change </td>" in table_row(page, "onchange")
    assert '<span class="muted">not scheduled</span>' in table_row(page, "off")
    assert '<span class="muted">not scheduled</span>' in table_row(page, "draft")
    assert re.search(r"<time [^>]*>\d{4}-\d\d-\d\d 05:30 CES?T</time>", table_row(page, "fresh"))
    assert '<span class="muted">never</span>' in table_row(page, "fresh")
    assert fact(client.get("/connections/onchange/").content.decode(), "Next run") == "on change"
    off = fact(client.get("/connections/off/").content.decode(), "Next run")
    assert off == '<span class="muted">not scheduled</span>'


def test_a_run_started_by_hand_after_the_last_job_is_the_last_run(source: Source) -> None:
    ad = make_connection(source, "ad")
    other = make_connection(source, "other")
    job(ad.key, "done", MONDAY, finished=MONDAY, worker="w1")
    by_hand = finished_run(ad, "succeeded", MONDAY + timedelta(hours=2), "cli")
    only_run = finished_run(other, "failed", MONDAY, "alice")
    Run.objects.create(connection=other, is_simulation=True, status="simulated", finished=MONDAY)

    page = viewer().get("/connections/").content.decode()
    ad_row = table_row(page, "ad")
    assert f'<a href="/runs/{by_hand.pk}/">' in ad_row and "09:00 CET" in ad_row
    assert "by cli</span>" in ad_row and "w1" not in ad_row
    other_row = table_row(page, "other")
    assert f'<a href="/runs/{only_run.pk}/">' in other_row and "badge failed" in other_row


def test_the_api_gives_last_current_and_next_run(source: Source) -> None:
    ad = make_connection(source, "ad", next_run_at=MONDAY + timedelta(days=1))
    run = finished_run(ad, "succeeded", MONDAY, "schedule")
    job(ad.key, "done", MONDAY, started=MONDAY, finished=MONDAY, attempts=2, worker="w1", run=run)
    job(ad.key, "running", MONDAY + timedelta(days=1), started=MONDAY + timedelta(days=1))
    make_connection(source, "onchange", schedule="on-change")
    client = api_client_for(make_users()["viewer"])

    listed = client.get("/api/connections", {"order": "key"}).json()
    ConnectionPage.model_validate(listed)
    by_key = {item["key"]: item for item in listed["items"]}
    assert by_key["ad"]["last_run"] == {
        "state": "done",
        "started_by": "schedule",
        "finished": "2026-03-02T06:00:00Z",
        "attempts": 2,
        "worker": "w1",
        "run_id": run.pk,
        "run_status": "succeeded",
    }
    assert by_key["ad"]["current_run"] == {
        "state": "running",
        "started_by": "schedule",
        "since": "2026-03-03T06:00:00Z",
    }
    assert by_key["ad"]["next_run"] == "2026-03-03T06:00:00Z"
    assert by_key["onchange"]["last_run"] is None and by_key["onchange"]["current_run"] is None
    assert by_key["onchange"]["next_run"] is None

    detail = client.get("/api/connections/ad").json()
    ConnectionDetailOut.model_validate(detail)
    assert detail["last_run"] == by_key["ad"]["last_run"]


def many_connections(source: Source, count: int) -> None:
    """`count` active connections, each with a finished JobRun and its Run, a queued JobRun and
    a run started by hand."""
    rows = Connection.objects.bulk_create(
        Connection(
            key=f"{source.key}-{n:03d}",
            name=f"Conn {source.key} {n:03d}",
            source=source,
            kind="active_directory",
            state=Connection.State.ACTIVE,
            schedule="*/5 * * * *" if n % 2 else "on-change",
        )
        for n in range(count)
    )
    runs = Run.objects.bulk_create(
        Run(connection=row, status="succeeded", finished=MONDAY, started_by=by)
        for row in rows
        for by in ("schedule", "cli")
    )
    JobRun.objects.bulk_create(
        JobRun(
            kind=JobRun.Kind.CONNECTION,
            key=row.key,
            scheduled_for=MONDAY + timedelta(minutes=minutes),
            queued=MONDAY,
            state=state,
            finished=MONDAY if state == "done" else None,
            run=run if state == "done" else None,
        )
        for row, run in zip(rows, runs[::2], strict=True)
        for state, minutes in (("done", 0), ("queued", 5))
    )


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(db_connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_lists_look_run_times_up_per_page_not_per_connection(source: Source) -> None:
    many_connections(source, 3)
    console, api = viewer(), api_client_for(make_users()["admin"])
    api.get("/api/connections")  # the token's first use writes last_used: not a page's cost
    few = (count_queries(console, "/connections/"), count_queries(api, "/api/connections"))
    many_connections(Source.objects.create(key="more", kind="flexhrm"), 197)
    console_queries = count_queries(console, "/connections/")
    api_queries = count_queries(api, "/api/connections?limit=200")
    assert (console_queries, api_queries) == few
    # The console's 11th is the session's save, which restarts its idle timeout (8 hours).
    assert console_queries <= 11 and api_queries <= 10
    items = api.get("/api/connections?limit=200").json()["items"]
    assert len(items) == 200 and all(item["last_run"] and item["current_run"] for item in items)
