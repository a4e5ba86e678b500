"""On-change for a SCIM app as for AD: an import that finds personnel changes queues the
connection, and the worker's next job brings the change to the app, within one import period."""

from __future__ import annotations

import httpx2
import pytest
from tests.sites import FLEX_PASSWORD, flex_simulator

from hrsync.app.imports.source_import import import_source
from hrsync.app.jobs.work import claim_and_run
from hrsync.app.models import Connection, JobRun, Source
from hrsync.app.security.secrets import encrypt
from hrsync.testing.scim import ScimServer

pytestmark = pytest.mark.django_db(transaction=True)


def users(server: ScimServer) -> dict[str, dict[str, object]]:
    """The app's users by externalId (the HR person id)."""
    answer = httpx2.get(
        f"{server.url}Users",
        params={"count": 1000},
        headers={"Authorization": f"Bearer {server.token}"},
    ).json()
    return {str(u["externalId"]): u for u in answer.get("Resources") or []}


def test_an_hr_edit_reaches_the_scim_app_through_the_queue(
    scim2_server: ScimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEX_PW", FLEX_PASSWORD)
    with flex_simulator(12, seed=5) as (sim, dataset):
        source = Source.objects.create(
            key="flex",
            kind="flexhrm",
            settings={
                "url": sim.url, "instance": "acme", "username": "api", "password_env": "FLEX_PW"
            },
        )  # fmt: skip
        Connection.objects.create(
            key="winningtemp",
            source=source,
            kind="scim",
            settings={"url": scim2_server.url, "profile": "winningtemp"},
            secret=encrypt(scim2_server.token),
            schedule="on-change",
            state=Connection.State.ACTIVE,
        )

        import_source("flex")
        assert list(JobRun.objects.values_list("key", "started_by")) == [
            ("winningtemp", "on-change")
        ]
        assert claim_and_run("test-worker") is not None
        before = users(scim2_server)
        assert before  # the first import's joiners are in the app

        employee = next(e for e in dataset["employees"] if e["id"] in before)
        sim.patch_employee(employee["id"], {"lastName": "Lindqvist"})
        import_source("flex")
        job = claim_and_run("test-worker")

        assert job is not None and job.key == "winningtemp"
        after = users(scim2_server)
        assert after[employee["id"]]["name"]["familyName"] == "Lindqvist"  # type: ignore[index]
        unchanged = [pid for pid in before if pid != employee["id"]]
        assert all(after[pid]["meta"] == before[pid]["meta"] for pid in unchanged)
        import_source("flex")  # nothing changed in HR: nothing queued
        assert claim_and_run("test-worker") is None
