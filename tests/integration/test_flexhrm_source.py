"""The Flex HRM source against the Flex HRM simulator over loopback HTTP: both dialects, paging,
the modified-since window, faults and back-off, refused credentials and set-aside records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hrsync.connectors.flexhrm.client import FlexHrmClient
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.source import FlexHrmSource
from hrsync.domain.errors import SourceError
from hrsync.domain.person import InvalidRecord, Person
from hrsync.simulators.flexhrm import Credentials, Faults, FlexSimulator, generate_dataset

COUNT = 200
DATASET = generate_dataset(count=COUNT, seed=7)
API_USER = Credentials(instance="acme", username="api", password="secret")


@pytest.fixture
def sim() -> Iterator[FlexSimulator]:
    simulator = FlexSimulator(DATASET, credentials=API_USER, host="127.0.0.1", port=0)
    simulator.start()
    yield simulator
    simulator.stop()


class Recorder:
    """Stands in for time.sleep: remembers every wait instead of waiting."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def source_for(url: str, **changes: Any) -> tuple[FlexHrmSource, Recorder]:
    settings: dict[str, Any] = {
        "url": url,
        "instance": "acme",
        "username": "api",
        "password": "secret",
        "page_size": 50,
    }
    config = FlexHrmConfig.model_validate(settings | changes)
    recorder = Recorder()
    return FlexHrmSource(config, FlexHrmClient(config, sleep=recorder)), recorder


def read_all(
    source: FlexHrmSource, since: datetime | None = None
) -> tuple[dict[str, Person], list[InvalidRecord]]:
    people: dict[str, Person] = {}
    invalid: list[InvalidRecord] = []
    with source:
        for record in source.read_people(since):
            if isinstance(record, Person):
                people[record.person_id] = record
            else:
                invalid.append(record)
    return people, invalid


def test_a_full_import_reads_every_employee_the_same_in_both_dialects(sim: FlexSimulator) -> None:
    camel, camel_invalid = read_all(source_for(sim.url)[0])
    pascal, pascal_invalid = read_all(source_for(sim.legacy_url)[0])
    assert camel_invalid == pascal_invalid == []
    assert len(camel) == COUNT
    assert camel == pascal
    everyone = list(camel.values())
    assert {p.employment.company_name for p in everyone} == {
        "Acme Sverige AB",
        "Acme Norden AB",
        "Acme Konsult AB",
    }
    assert all(p.employee_number and p.employment.title for p in everyone)
    assert all(p.organisation_value("Office") for p in everyone)
    assert all(p.organisation_value("Department") for p in everyone)
    assert any(p.employment.is_external for p in everyone)
    assert all(p.manager_id in camel for p in everyone if p.manager_id)
    assert any(p.given_name == "Åsa" and p.family_name == "Öberg" for p in everyone)


def test_an_enveloped_list_reads_the_same(sim: FlexSimulator) -> None:
    plain, _ = read_all(source_for(sim.url)[0])
    sim.stop()
    enveloped_sim = FlexSimulator(DATASET, credentials=API_USER, envelope=True)
    with enveloped_sim:
        enveloped, invalid = read_all(source_for(enveloped_sim.url, page_size=500)[0])
    assert invalid == []
    assert enveloped == plain


def test_the_modified_since_window_returns_only_what_changed(sim: FlexSimulator) -> None:
    chosen = DATASET["employees"][17]["id"]
    since = datetime.now(UTC) - timedelta(minutes=1)
    sim.patch_employee(chosen, {"lastName": "Nyström-Patched"})
    changed, invalid = read_all(source_for(sim.legacy_url)[0], since)
    assert invalid == []
    assert list(changed) == [chosen]
    assert changed[chosen].family_name == "Nyström-Patched"


def test_the_default_window_reads_the_recently_modified(sim: FlexSimulator) -> None:
    source, _ = source_for(sim.url, modified_since_days=30)
    recent, _ = read_all(source, source.default_window_start(datetime.now(UTC)))
    assert 0 < len(recent) < COUNT


@pytest.mark.parametrize(("status", "retry_after", "times"), [(503, 1, 2), (429, 2, 3)])
def test_busy_answers_are_retried_after_the_time_retry_after_asks(
    sim: FlexSimulator, status: int, retry_after: int, times: int
) -> None:
    source, recorder = source_for(sim.url, backoff_seconds=5)
    sim.faults = Faults(status=status, retry_after=retry_after, times=times)
    people, invalid = read_all(source)
    assert (len(people), invalid) == (COUNT, [])
    assert recorder.sleeps == [float(retry_after)] * times


def test_without_retry_after_the_back_off_grows(sim: FlexSimulator) -> None:
    source, recorder = source_for(sim.url, backoff_seconds=0.5)
    sim.faults = Faults(status=502, retry_after=None, times=3)
    people, _ = read_all(source)
    assert len(people) == COUNT
    assert len(recorder.sleeps) == 3
    for attempt, wait in enumerate(recorder.sleeps):
        assert 0.25 * 2**attempt <= wait <= 0.5 * 2**attempt


def test_a_broken_page_is_read_again(sim: FlexSimulator) -> None:
    source, recorder = source_for(sim.url)
    sim.faults = Faults(broken_page=1)
    people, invalid = read_all(source)
    assert (len(people), invalid) == (COUNT, [])
    assert len(recorder.sleeps) == 1


def test_a_server_that_stays_busy_fails_the_import_with_what_failed(sim: FlexSimulator) -> None:
    source, recorder = source_for(sim.url, max_retries=2)
    sim.faults = Faults(status=503, retry_after=1, times=10)
    with pytest.raises(
        SourceError, match=r"did not answer GET .*companies after 3 attempts: HTTP 503"
    ):
        read_all(source)
    assert recorder.sleeps == [1.0, 1.0]


@pytest.mark.parametrize("auth_encoding", ["auto", "base64", "raw"])
def test_the_right_credentials_work_in_every_encoding(
    sim: FlexSimulator, auth_encoding: str
) -> None:
    source, _ = source_for(sim.legacy_url, auth_encoding=auth_encoding)
    source.check()


@pytest.mark.parametrize("changes", [{"password": "wrong"}, {"instance": "other"}])
def test_wrong_credentials_fail_with_401(sim: FlexSimulator, changes: dict[str, str]) -> None:
    source, recorder = source_for(sim.url, **changes)
    with pytest.raises(SourceError, match=r"refused the credentials \(401\)"):
        source.check()
    with pytest.raises(SourceError, match="401"):
        read_all(source)
    assert recorder.sleeps == []


def test_check_names_a_configured_company_the_user_cannot_see(sim: FlexSimulator) -> None:
    source, _ = source_for(sim.url, companies=["1", "99"])
    with pytest.raises(SourceError, match=r"company '99' is not visible.*Acme Sverige AB #1"):
        source.check()


def test_configured_companies_limit_the_import(sim: FlexSimulator) -> None:
    source, _ = source_for(sim.url, companies=["3"])
    source.check()
    people, _ = read_all(source)
    assert people
    assert {p.employment.company_name for p in people.values()} == {"Acme Konsult AB"}


def test_a_user_scoped_to_one_company_reads_only_that_one() -> None:
    dataset = generate_dataset(count=60, seed=7)
    first = dataset["companies"][0]
    scoped = Credentials("acme", "api", "secret", company_ids=frozenset({first["id"]}))
    with FlexSimulator(dataset, credentials=scoped) as simulator:
        people, invalid = read_all(source_for(simulator.url)[0])
        denied, _ = source_for(simulator.url, companies=[first["id"], "2"])
        with pytest.raises(SourceError, match="'2' is not visible"):
            denied.check()
    assert invalid == []
    assert {p.employment.company_id for p in people.values()} == {first["id"]}


def test_an_invalid_record_is_set_aside_and_the_rest_continue(sim: FlexSimulator) -> None:
    everyone, _ = read_all(source_for(sim.url)[0])
    template = sim.employee(sorted(everyone)[0])
    assert template is not None
    company = everyone[template["id"]].employment.company_name
    blank = sim.add_employee(_copy_of(template, "990001", firstName="  \t"))
    bad_mail = sim.add_employee(_copy_of(template, "990002", emailWork="berit@"))
    people, invalid = read_all(source_for(sim.legacy_url)[0])
    # Only what identifies a person sets a record aside; an unusable e-mail is left out with a
    # warning and the person kept (a target that needs the e-mail says so for them).
    kept = people.pop(bad_mail["id"])
    assert people == everyone
    assert kept.email is None
    assert kept.warnings == ("emailWork left out: email 'berit@' is not a valid address",)
    assert {(record.source_ref, record.reason) for record in invalid} == {
        (f"employee {blank['id']} ({company} #990001)", "missing firstName"),
    }


def _copy_of(template: dict[str, Any], number: str, **changes: Any) -> dict[str, Any]:
    """A new employee like `template`, with its own id, employment number and period ids."""
    employee = {k: v for k, v in template.items() if k not in ("id", "modified")}
    periods = [{k: v for k, v in p.items() if k != "id"} for p in template["employmentPeriods"]]
    return employee | {
        "employment": [{"employmentNumber": number}],
        "employmentPeriods": periods,
        **changes,
    }
