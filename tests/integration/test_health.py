"""The probes: /healthz answers without a database, /readyz names what is not ready and tells
nothing an anonymous caller should not learn."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from tests.integration.api_data import SOURCE_PASSWORD, Dataset

from hrsync.app.models import Import, Run

STOPPED_QUEUE = "redis://127.0.0.1:9/0"
"""Redis on the discard port: nothing listens, as when the queue is stopped."""

pytestmark = pytest.mark.usefixtures("fernet_key")


def test_healthz_answers_ok_without_touching_the_database() -> None:
    # No django_db mark: pytest-django refuses any query, so a query would fail this test.
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert Client().head("/healthz").status_code == 200  # load balancers probe with HEAD too
    assert Client().post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_is_ready_when_the_last_import_and_run_went_well(data: Dataset) -> None:
    Run.objects.create(connection=data.connection, status=Run.Status.SUCCEEDED)
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {
        "database": "ok",
        "queue": "ok",
        "source:hr": "ok",
        "connection:ad": "ok",
    }


@pytest.mark.django_db
def test_readyz_names_a_failed_import_and_run_without_their_errors(data: Dataset) -> None:
    Import.objects.create(source=data.source, status="failed", error=f"bad {SOURCE_PASSWORD}")
    Run.objects.create(
        connection=data.connection, status=Run.Status.FAILED, error="Anna Berg: refused"
    )
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["connection:ad", "source:hr"]
    text = response.content.decode()
    assert SOURCE_PASSWORD not in text
    assert "Anna" not in text
    assert "refused" not in text


@pytest.mark.django_db
@override_settings(HRSYNC_QUEUE_URL=STOPPED_QUEUE)
def test_readyz_answers_503_when_the_queue_is_stopped(data: Dataset) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["queue"]
    assert body["checks"]["database"] == "ok"
    assert STOPPED_QUEUE not in response.content.decode()


@pytest.mark.django_db
def test_a_held_run_is_not_a_failure(data: Dataset) -> None:
    # The dataset's last run is held by the safety gate: waiting for a person, on purpose.
    assert Client().get("/readyz").status_code == 200
