"""An import that finds personnel changes queues the source's on-change connections at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hrsync.app.imports.source_import import import_source
from hrsync.app.models import Connection, JobRun, Source
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset


@pytest.fixture
def sim() -> Iterator[FlexSimulator]:
    server = FlexSimulator(
        generate_dataset(count=10, seed=3), credentials=Credentials("acme", "api", "pw")
    )
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_changes_queue_on_change_connections_and_no_changes_queue_nothing(
    sim: FlexSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEX_PW", "pw")
    source = Source.objects.create(
        key="flex",
        kind="flexhrm",
        settings={"url": sim.url, "instance": "acme", "username": "api", "password_env": "FLEX_PW"},
    )
    for key, schedule, state in (
        ("ad", "on-change", "active"),
        ("scim", "*/5 * * * *", "active"),
        ("draft", "on-change", "draft"),
    ):
        Connection.objects.create(
            key=key, source=source, kind="active_directory", schedule=schedule, state=state
        )
    import_source("flex")
    queued = list(JobRun.objects.values_list("key", "started_by", "state"))
    assert queued == [("ad", "on-change", "queued")]
    import_source("flex")  # nothing changed in HR
    assert JobRun.objects.count() == 1
