"""The AFAS source against the AFAS simulator over loopback HTTP: persons with their names by
usage code, several employments, managers, organisation levels, the modified-since window,
set-aside rows, faults ridden out, and a refused token."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2
import pytest

from hrsync.connectors.afas.client import AfasClient
from hrsync.connectors.afas.config import AfasConfig
from hrsync.connectors.afas.errors import AccessDeniedError, TokenRefusedError, UnavailableError
from hrsync.connectors.afas.source import AfasSource
from hrsync.domain.errors import SourceError, SourceUnavailableError
from hrsync.domain.person import InvalidRecord, Person
from hrsync.simulators.afas import (
    EMPLOYMENTS,
    ORGANIZATIONAL_UNITS,
    USERS,
    AfasSimulator,
    Faults,
    Token,
    generate_dataset,
)

COUNT = 150
TODAY = date(2026, 12, 7)
DATASET = generate_dataset(count=COUNT, seed=5, today=TODAY)


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Recorder:
    """Stands in for time.sleep: remembers every wait instead of waiting."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def sim() -> Iterator[AfasSimulator]:
    tokens = (Token("good-token"), Token("users-only", frozenset({USERS})))
    with AfasSimulator(DATASET, tokens) as simulator:
        yield simulator


def source_for(url: str, **changes: Any) -> tuple[AfasSource, Recorder]:
    settings: dict[str, Any] = {"url": url, "token": "good-token", "page_size": 40}
    config = AfasConfig.model_validate(settings | changes)
    recorder = Recorder()
    return AfasSource(config, AfasClient(config, sleep=recorder), FixedClock()), recorder


def read_all(
    source: AfasSource, since: datetime | None = None
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


def user_row(number: str) -> dict[str, Any]:
    return next(u for u in DATASET["connectors"][USERS] if u["Medewerker"] == number)


def test_a_full_import_reads_every_employee(sim: AfasSimulator) -> None:
    people, invalid = read_all(source_for(sim.url)[0])
    assert invalid == []
    assert len(people) == COUNT
    everyone = list(people.values())
    assert all(p.employee_number == p.person_id for p in everyone)
    assert all(p.employment.title for p in everyone)
    assert all(p.manager_id in people for p in everyone if p.manager_id)
    assert sum(1 for p in everyone if p.manager_id is None) == 1  # the director
    assert any(not p.family_name.isascii() for p in everyone)
    assert any(p.family_name.startswith("van der ") for p in everyone)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("0", "van der Berg"),
        ("1", "de Vries - van der Berg"),
        ("2", "de Vries"),
        ("3", "van der Berg - de Vries"),
    ],
)
def test_the_family_name_follows_the_name_usage_code(code: str, expected: str) -> None:
    dataset = copy.deepcopy(DATASET)
    user = next(u for u in dataset["connectors"][USERS] if u["Medewerker"] == "10030")
    user.update(
        Roepnaam="Anouk", Voorvoegsel="van der", Achternaam="Berg",
        Voorvoegsel_partner="de", Geboortenaam_partner="Vries", Naamgebruik_code=code,
    )  # fmt: skip
    with AfasSimulator(dataset, Token("good-token")) as sim:
        people, _ = read_all(source_for(sim.url)[0])
    assert people["10030"].family_name == expected
    assert people["10030"].display_name == f"Anouk {expected}"


def test_the_name_usage_table_can_be_overridden(sim: AfasSimulator) -> None:
    swapped = {"0": "B", "1": "PB", "2": "BP", "3": "P"}  # one public HelloID script's reading
    plain, _ = read_all(source_for(sim.url)[0])
    other, _ = read_all(source_for(sim.url, name_usage=swapped)[0])
    twos = [n for n, p in plain.items() if user_row(n)["Naamgebruik_code"] == "2"]
    assert twos
    for number in twos:
        row = user_row(number)
        partner = " ".join(
            p for p in (row["Voorvoegsel_partner"], row["Geboortenaam_partner"]) if p
        )
        assert plain[number].family_name == partner
        assert other[number].family_name.endswith(f" - {partner}")


def test_the_primary_employment_is_the_active_one_that_started_last() -> None:
    number = "10040"
    dataset = copy.deepcopy(DATASET)
    jobs = [j for j in dataset["connectors"][EMPLOYMENTS] if j["Medewerker"] != number]
    mine = [
        _job(number, "a", "2015-01-01", None, "Planner", "LOG"),
        _job(number, "b", "2022-03-01", None, "Controller", "FIN"),
        _job(number, "c", "2010-01-01", "2014-12-31", "Stagiair", "ICT"),
    ]
    dataset["connectors"][EMPLOYMENTS] = jobs + mine
    with AfasSimulator(dataset, Token("good-token")) as sim:
        latest, _ = read_all(source_for(sim.url)[0])
        earliest, _ = read_all(source_for(sim.url, primary_employment="earliest_start")[0])
    assert latest[number].employment.title == "Controller"
    assert latest[number].organisation_value("Department") == "Financiën"
    assert dict(latest[number].custom)["employment_id"] == f"{number}_b"
    assert earliest[number].employment.title == "Planner"


def test_a_leaver_keeps_the_employment_that_ended_last() -> None:
    number = "10041"
    dataset = copy.deepcopy(DATASET)
    jobs = [j for j in dataset["connectors"][EMPLOYMENTS] if j["Medewerker"] != number]
    dataset["connectors"][EMPLOYMENTS] = [
        *jobs,
        _job(number, "a", "2015-01-01", "2019-12-31", "Planner", "LOG"),
        _job(number, "b", "2020-01-01", "2026-11-30", "Accountmanager", "VRK"),
    ]
    with AfasSimulator(dataset, Token("good-token")) as sim:
        people, _ = read_all(source_for(sim.url)[0])
    assert people[number].employment.title == "Accountmanager"
    assert people[number].employment.end_date == date(2026, 11, 30)
    assert not people[number].employment.is_active_on(TODAY)


def _job(
    number: str, seq: str, start: str, end: str | None, title: str, unit: str
) -> dict[str, Any]:
    return {
        "ExternalID": f"{number}_{seq}",
        "Medewerker": number,
        "Begindatum": f"{start}T00:00:00Z",
        "Einddatum": f"{end}T00:00:00Z" if end else None,
        "Functie_code": title[:3].upper(),
        "Functie_omschrijving": title,
        "Organisatorische_eenheid_code": unit,
        "Leidinggevende_medewerker": "10001",
        "Mutatiedatum": "2025-01-01T09:00:00",
    }


def test_a_server_that_caps_take_still_gives_every_row() -> None:
    with AfasSimulator(DATASET, Token("good-token"), max_take=25, cap_take=True) as capped:
        people, invalid = read_all(source_for(capped.url, page_size=40)[0])
    assert (len(people), invalid) == (COUNT, [])


def test_organisation_levels_follow_the_unit_hierarchy(sim: AfasSimulator) -> None:
    people, _ = read_all(source_for(sim.url)[0])
    team = next(p for p in people.values() if dict(p.custom).get("unit_code") == "KS-N")
    assert team.organisation == (
        ("Organisation", "Van den Berg Groep B.V."),
        ("Division", "Operatie"),
        ("Department", "Klantenservice"),
        ("Team", "Klantenservice Noord"),
    )
    assert team.organisation_id("Team") == "KS-N"
    assert dict(team.custom)["unit_name"] == "Klantenservice Noord"
    renamed, _ = read_all(source_for(sim.url, organisation_levels=["Bedrijf", "Sector"])[0])
    assert renamed[team.person_id].organisation_value("Level 3") == "Klantenservice"


def test_managers_come_from_the_employment(sim: AfasSimulator) -> None:
    people, _ = read_all(source_for(sim.url)[0])
    jobs = [j for j in DATASET["connectors"][EMPLOYMENTS] if j["Medewerker"] == "10012"]
    assert (
        people["10012"].manager_id
        == max(jobs, key=lambda j: j["Begindatum"])["Leidinggevende_medewerker"]
    )


def test_the_modified_since_window_returns_only_what_changed(sim: AfasSimulator) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    httpx2.patch(f"{sim.control_url}/employees/10017", json={"Achternaam": "Gewijzigd"})
    httpx2.patch(f"{sim.control_url}/employees/10018", json={"Einddatum": "2026-12-31T00:00:00Z"})
    changed, invalid = read_all(source_for(sim.url)[0], since)
    assert invalid == []
    assert sorted(changed) == ["10017", "10018"]
    assert "Gewijzigd" in changed["10017"].family_name
    assert changed["10018"].employment.end_date == date(2026, 12, 31)


def test_an_employment_change_alone_brings_the_person_in() -> None:
    dataset = copy.deepcopy(DATASET)
    job = next(j for j in dataset["connectors"][EMPLOYMENTS] if j["Medewerker"] == "10019")
    job["Mutatiedatum"] = "2026-12-07T10:00:00"
    with AfasSimulator(dataset, Token("good-token")) as sim:
        since = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam
        changed, _ = read_all(source_for(sim.url)[0], since)
    assert list(changed) == ["10019"]


def test_the_default_window_is_modified_since_days(sim: AfasSimulator) -> None:
    source, _ = source_for(sim.url, modified_since_days=30)
    start = source.default_window_start(FixedClock().now())
    assert start == FixedClock().now() - timedelta(days=30)
    recent, _ = read_all(source, start)
    assert recent == {}  # the generated rows were all entered 40 days ago or earlier


def test_invalid_rows_are_set_aside_with_reasons() -> None:
    dataset = copy.deepcopy(DATASET)
    users = dataset["connectors"][USERS]
    users[3] = {**users[3], "Achternaam": None, "Geboortenaam_partner": None}
    users[4] = {**users[4], "Roepnaam": None, "Voornaam": " "}
    users[5] = {**users[5], "Email_werk": "not an address"}
    users.append({**users[6]})  # a duplicate Medewerker
    users.append({**users[7], "Medewerker": "99001"})  # no employment
    jobs = dataset["connectors"][EMPLOYMENTS]
    broken = next(j for j in jobs if j["Medewerker"] == users[8]["Medewerker"])
    broken["Einddatum"] = "2001-01-01T00:00:00Z"
    jobs.append({**jobs[0], "Medewerker": "99002", "ExternalID": "99002_1"})  # no user row
    with AfasSimulator(dataset, Token("good-token")) as sim:
        people, invalid = read_all(source_for(sim.url)[0])
    reasons = {record.source_ref: record.reason for record in invalid}
    number = lambda i: users[i]["Medewerker"]  # noqa: E731
    assert reasons[f"employee {number(3)}"] == "missing Achternaam"
    assert reasons[f"employee {number(4)}"] == "missing Roepnaam"
    assert reasons[f"employee {number(6)}"] == "duplicate user row"
    assert reasons["employee 99001"] == "no employment"
    assert "ends (2001-01-01) before it starts" in reasons[f"employee {number(8)}"]
    assert "no user row" in reasons["employee 99002"]
    assert people[number(5)].email is None
    assert people[number(5)].warnings == (
        "Email_werk left out: email 'not an address' is not a valid address",
    )
    assert len(people) == COUNT - 3


@pytest.mark.parametrize(("status", "retry_after", "times"), [(429, 3, 2), (503, 1, 3)])
def test_busy_answers_are_ridden_out_after_retry_after(
    sim: AfasSimulator, status: int, retry_after: int, times: int
) -> None:
    source, recorder = source_for(sim.url, backoff_seconds=5)
    sim.faults = Faults(status=status, retry_after=retry_after, times=times)
    people, invalid = read_all(source)
    assert (len(people), invalid) == (COUNT, [])
    assert recorder.sleeps == [float(retry_after)] * times


def test_after_the_last_retry_the_source_is_unavailable(sim: AfasSimulator) -> None:
    source, recorder = source_for(sim.url, max_retries=2, backoff_seconds=0.1)
    sim.faults = Faults(status=503, retry_after=None, times=10)
    with pytest.raises(UnavailableError, match="after 3 attempts: HTTP 503") as caught:
        read_all(source)
    assert isinstance(caught.value, SourceUnavailableError)
    assert len(recorder.sleeps) == 2


def test_a_wrong_token_is_refused_with_a_clear_message(sim: AfasSimulator) -> None:
    source, _ = source_for(sim.url, token="wrong-token")
    with pytest.raises(TokenRefusedError, match=r"AFAS refused the token \(401\)"):
        source.check()
    with pytest.raises(SourceError, match="token"):
        read_all(source_for(sim.url, token="wrong-token")[0])


def test_check_lists_the_connectors_the_token_may_use(sim: AfasSimulator) -> None:
    source, _ = source_for(sim.url)
    summary = source.describe_connection()
    assert USERS in summary and EMPLOYMENTS in summary and ORGANIZATIONAL_UNITS in summary
    source.check()
    limited, _ = source_for(sim.url, token="users-only")
    with pytest.raises(AccessDeniedError) as caught:
        limited.check()
    message = str(caught.value)
    assert f"may not use {EMPLOYMENTS}, {ORGANIZATIONAL_UNITS}" in message
    assert f"it may use: {USERS}" in message


def test_check_names_mapped_fields_a_connector_lacks(sim: AfasSimulator) -> None:
    source, _ = source_for(sim.url, fields={"mobile": "Mobiel_prive"})
    assert f"{USERS} lacks Mobiel_prive" in source.describe_connection()
    keyless, _ = source_for(sim.url, fields={"employee": "Nummer"})
    with pytest.raises(SourceError, match=rf"{USERS} has no field Nummer.*fields.employee"):
        keyless.check()


def test_the_environment_sets_the_base_url() -> None:
    settings = {"environment": "12345", "token": "t"}
    kinds = {"production": "rest", "test": "resttest", "acceptance": "restaccept"}
    for kind, host in kinds.items():
        config = AfasConfig.model_validate(settings | {"environment_kind": kind})
        assert config.base_url == f"https://12345.{host}.afas.online/ProfitRestServices"
    with pytest.raises(ValueError, match="environment"):
        AfasConfig.model_validate({"token": "t"})


def test_the_secret_may_come_as_password_as_the_app_fills_it(sim: AfasSimulator) -> None:
    """The app's wiring puts a source's secret under `password` (wiring._with_secret)."""
    settings = {"url": sim.url, "environment_kind": "test", "preset": "helloid"}
    config = AfasConfig.model_validate(settings | {"password": "good-token"})
    assert config.token.get_secret_value() == "good-token"
    with AfasSource(config) as source:
        source.check()
    with pytest.raises(ValueError, match="extra"):
        AfasConfig.model_validate(settings | {"token": "t", "token_env": "AFAS_TOKEN"})


def test_the_app_validates_the_issue_settings_with_its_placeholder_secret() -> None:
    """What registering `afas` in the app's wiring relies on: the settings of a `[sources.afas]`
    table pass `validate_settings` (app settings such as token_env stripped, the secret filled)."""
    from hrsync.app.connection_settings import wiring  # noqa: PLC0415 - needs Django set up

    settings = {
        "environment": "12345",
        "environment_kind": "acceptance",
        "token_env": "AFAS_TOKEN",
        "preset": "helloid",
        "fields": {"mobile": "Mobiel_prive"},
    }
    config = wiring.validate_settings(AfasConfig, settings)
    assert isinstance(config, AfasConfig)
    assert config.base_url == "https://12345.restaccept.afas.online/ProfitRestServices"
    assert config.fields.mobile == "Mobiel_prive"
    assert config.fields.employee == "Medewerker"
