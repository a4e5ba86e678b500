"""/metrics: closed without the bearer token, and after a real import and a real run the
figures Prometheus reads are the stored ones.

Real parts: the Flex HRM simulator over HTTP, a CSV connection delivering to a folder, a job
run by the worker's own code against a directory that does not answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from tests.integration.api_data import make_dataset

from hrsync.app.imports.source_import import import_source
from hrsync.app.jobs import work
from hrsync.app.jobs.queue import insert_job
from hrsync.app.metrics import TOKEN_ENV, is_authorised
from hrsync.app.models import Connection, JobRun, Source
from hrsync.app.runs.connection_run import run_connection
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]

TOKEN = "metrics-token-for-tests-0123456789"
PEOPLE = 12
CREDENTIALS = Credentials("acme", "api", "flex-pw")


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return TOKEN


@pytest.fixture
def flex(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlexSimulator]:
    sim = FlexSimulator(generate_dataset(count=PEOPLE, seed=7), credentials=CREDENTIALS)
    sim.start()
    monkeypatch.setenv("FLEX_PW", CREDENTIALS.password)
    settings = {"url": sim.url, "instance": "acme", "username": "api", "password_env": "FLEX_PW"}
    Source.objects.create(key="flex", kind="flexhrm", settings=settings)
    yield sim
    sim.stop()


def scrape(token: str | None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Sample name and labels → value, as Prometheus would read them."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = Client(**headers).get("/metrics")
    assert response.status_code == 200, response.content
    families = text_string_to_metric_families(response.content.decode())
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


@pytest.mark.parametrize(
    ("header", "configured", "expected"),
    [
        (f"Bearer {TOKEN}", TOKEN, True),
        (f"bearer {TOKEN}", TOKEN, True),
        (f"Bearer {TOKEN}x", TOKEN, False),
        (f"Basic {TOKEN}", TOKEN, False),
        ("", TOKEN, False),
        ("Bearer ", "", False),
        (f"Bearer {TOKEN}", "", False),
    ],
)
def test_only_the_configured_bearer_token_opens_the_metrics(
    header: str, configured: str, expected: bool
) -> None:
    assert is_authorised(header, configured) is expected


def test_metrics_answer_401_without_the_token_and_when_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert Client(HTTP_AUTHORIZATION="Bearer anything").get("/metrics").status_code == 401
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    anonymous = Client().get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/metrics").status_code == 401


def test_an_import_and_a_run_show_in_the_metrics(
    flex: FlexSimulator, token: str, tmp_path: Path, settings: Any
) -> None:
    settings.HOME = tmp_path / "home"
    assert import_source("flex", full=True).fetched == PEOPLE
    out = tmp_path / "drop"
    out.mkdir()
    Connection.objects.create(
        key="fw",
        source=Source.objects.get(key="flex"),
        kind="csv",
        settings={"format": "flexwhere", "delivery": "folder", "folder": str(out)},
        state=Connection.State.ACTIVE,
        step=7,
    )
    summary = run_connection("fw")
    found = scrape(token)

    assert (
        found[
            (
                "hrsync_imports_total",
                (("kind", "full"), ("outcome", "succeeded"), ("source", "flex")),
            )
        ]
        == 1
    )
    assert (
        found[
            (
                "hrsync_runs_total",
                (("connection", "fw"), ("kind", "live"), ("outcome", "succeeded")),
            )
        ]
        == 1
    )
    created = found[
        ("hrsync_changes_total", (("connection", "fw"), ("kind", "create"), ("outcome", "applied")))
    ]
    assert created == summary.applied > 0
    assert found[("hrsync_run_duration_seconds_count", ())] == 1
    assert found[("hrsync_run_duration_seconds_bucket", (("le", "+Inf"),))] == 1
    assert found[("hrsync_connections", (("state", "active"),))] == 1
    assert found[("hrsync_queue_depth", ())] == 0  # fmt: skip


def test_a_failed_job_counts_by_error_class_and_the_queue_and_lag_show(token: str) -> None:
    data = make_dataset()  # connection "ad" points at a closed port; its last run is held
    assert scrape(token)[("hrsync_connections", (("state", "held"),))] == 1
    now = timezone.now()
    job = insert_job(JobRun.Kind.CONNECTION, "ad", now, "schedule", now)
    assert job is not None
    work.run_job(job.pk, "test-worker")
    job.refresh_from_db()
    attempt = job.history[-1]
    waiting = now - timedelta(minutes=5)
    insert_job(JobRun.Kind.IMPORT, "hr", waiting, "schedule", waiting)
    Connection.objects.filter(pk=data.connection.pk).update(next_run_at=now - timedelta(minutes=10))
    found = scrape(token)

    labels = (
        ("error_class", attempt["error_class"]),
        ("kind", "connection"),
        ("transient", "true" if attempt["transient"] else "false"),
    )
    assert attempt["error_class"]
    assert found[("hrsync_job_failures_total", labels)] == 1
    # The failed job waits for its retry, not due yet: only the import counts as a backlog.
    assert job.state == JobRun.State.QUEUED and job.queued > timezone.now()
    assert found[("hrsync_queue_depth", ())] == 1
    assert found[("hrsync_queue_oldest_age_seconds", ())] >= 300
    assert found[("hrsync_scheduler_lag_seconds", ())] >= 600
    # Its last run is now the failed one: no longer held.
    assert found[("hrsync_connections", (("state", "held"),))] == 0
