"""Flex HRM: employees into persons (both casings, both envelopes), and the client's rules."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hrsync.connectors.flexhrm.client import FlexHrmClient, extract_items, format_modified_since
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.errors import (
    AccessDeniedError,
    CredentialsRefusedError,
    FlexHrmError,
    RequestRejectedError,
    UnavailableError,
    describe_problem,
)
from hrsync.connectors.flexhrm.parse import (
    Coded,
    Company,
    Lookups,
    OrgLevel,
    Period,
    current_period,
    employment_number,
    normalise_keys,
    parse_day,
    parse_person,
    read_coded,
    read_company,
    read_level,
    record_id,
    sanitise,
    select_distributions,
)
from hrsync.connectors.retry_after import retry_after_seconds
from hrsync.domain.person import InvalidRecord, Person, person_from_fields

TODAY = date(2026, 11, 28)
ACME = Company("c-1", "1", "Acme AB")

LOOKUPS = Lookups(
    company=ACME,
    titles={"t-1": Coded("Ekonom", "EK")},
    types={"ty-1": Coded("Tillsvidare", "TV"), "ty-2": Coded("Konsult", "KONS")},
    levels=(
        OrgLevel("d-office", "Office", {"a-sto": "Stockholm"}),
        OrgLevel("d-dept", "Department", {"a-fin": "Finance"}),
    ),
    external_types=frozenset({"external personnel", "konsult", "inhyrd"}),
)

EMPLOYEE: dict[str, Any] = {
    "id": "e-1",
    "companyId": "c-1",
    "firstName": "Anna",
    "lastName": "Lindström",
    "emailWork": "anna.lindstrom@acme.example",
    "phone1": "+46 8 123 45",
    "phone4": "+46 70 123 45 67",
    "addressRow1": "Storgatan 1",
    "postalCode": "11122",
    "city": "Stockholm",
    "country": "SE",
    "dateOfBirth": "1990-03-12T00:00:00",
    "gender": 2,
    "immediateManagerEmployeeId": "e-0",
    "employment": [{"employmentNumber": "1001"}],
}

PERIOD: dict[str, Any] = {
    "id": "p-1",
    "fromDate": "2020-01-01T00:00:00",
    "toDate": None,
    "titleId": "t-1",
    "employmentTypeId": "ty-1",
    "accounts": [
        {"accountDistributionId": "d-dept", "accountId": "a-fin"},
        {"accountDistributionId": "d-office", "accountId": "a-sto"},
    ],
}

# The same employee as the legacy webapi writes it, by hand.
EMPLOYEE_PASCAL: dict[str, Any] = {
    "Id": "e-1",
    "CompanyId": "c-1",
    "FirstName": "Anna",
    "LastName": "Lindström",
    "EmailWork": "anna.lindstrom@acme.example",
    "Phone1": "+46 8 123 45",
    "Phone4": "+46 70 123 45 67",
    "AddressRow1": "Storgatan 1",
    "PostalCode": "11122",
    "City": "Stockholm",
    "Country": "SE",
    "DateOfBirth": "1990-03-12T00:00:00",
    "Gender": 2,
    "ImmediateManagerEmployeeId": "e-0",
    "Employment": [{"EmploymentNumber": "1001"}],
}
PERIOD_PASCAL: dict[str, Any] = {
    "Id": "p-1",
    "FromDate": "2020-01-01T00:00:00",
    "ToDate": None,
    "TitleId": "t-1",
    "EmploymentTypeId": "ty-1",
    "Accounts": [
        {"AccountDistributionId": "d-dept", "AccountId": "a-fin"},
        {"AccountDistributionId": "d-office", "AccountId": "a-sto"},
    ],
}


def employee(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(EMPLOYEE)
    for key, value in changes.items():
        if value is ...:
            record.pop(key, None)
        else:
            record[key] = value
    return record


def period(**changes: Any) -> dict[str, Any]:
    return {**PERIOD, **changes}


def parse(record: dict[str, Any], periods: list[dict[str, Any]] | None = None) -> Person:
    result = parse_person(record, [PERIOD] if periods is None else periods, LOOKUPS, TODAY)
    assert isinstance(result, Person), result
    return result


def refusal(record: dict[str, Any], periods: list[dict[str, Any]] | None = None) -> InvalidRecord:
    result = parse_person(record, [PERIOD] if periods is None else periods, LOOKUPS, TODAY)
    assert isinstance(result, InvalidRecord), result
    return result


# Keys.


def test_normalise_keys_turns_pascal_case_into_camel_case_at_every_depth() -> None:
    raw = {"Id": 1, "ID": 2, "Employment": [{"EmploymentNumber": "7"}], "emailWork": "x"}
    assert normalise_keys(raw) == {
        "id": 2,
        "employment": [{"employmentNumber": "7"}],
        "emailWork": "x",
    }


@pytest.mark.parametrize(
    "record",
    [
        {"id": " e-1 ", "firstName": "A"},
        {"Id": "e-1"},
        {"ID": "e-1", "Employment": [{"Id": "not this one"}]},
        {"id": "e-0", "ID": "e-1"},
        {"iD": "e-1"},
        {"id": {"nested": "e-1"}},
        {},
    ],
)
def test_record_id_reads_the_id_as_normalising_the_record_would(record: dict[str, Any]) -> None:
    expected = normalise_keys(record).get("id")
    assert record_id(record) == (expected.strip() if isinstance(expected, str) else None)


@pytest.mark.parametrize(
    ("record", "periods"),
    [(EMPLOYEE, [PERIOD]), (EMPLOYEE_PASCAL, [PERIOD_PASCAL])],
    ids=["camel", "pascal"],
)
def test_an_employee_reads_into_a_person_in_either_casing(
    record: dict[str, Any], periods: list[dict[str, Any]]
) -> None:
    person = parse(record, periods)
    assert (person.person_id, person.employee_number) == ("e-1", "1001")
    assert (person.given_name, person.family_name) == ("Anna", "Lindström")
    assert person.email == "anna.lindstrom@acme.example"
    assert (person.phone, person.mobile) == ("+46 8 123 45", "+46 70 123 45 67")
    assert (person.street, person.postal_code, person.city, person.country) == (
        "Storgatan 1",
        "11122",
        "Stockholm",
        "SE",
    )
    assert person.birth_date == date(1990, 3, 12)
    assert person.manager_id == "e-0"
    assert person.employment.company_id == "c-1"
    assert person.employment.company_name == "Acme AB"
    assert person.employment.title == "Ekonom"
    assert person.employment.employment_type == "Tillsvidare"
    assert (person.employment.start_date, person.employment.end_date) == (date(2020, 1, 1), None)
    assert not person.employment.is_external
    assert person.organisation == (("Office", "Stockholm"), ("Department", "Finance"))
    assert person.organisation_ids == (("Office", "a-sto"), ("Department", "a-fin"))
    assert person.custom == (("gender", "female"),)


def test_both_casings_give_the_same_person() -> None:
    assert parse(EMPLOYEE, [PERIOD]) == parse(EMPLOYEE_PASCAL, [PERIOD_PASCAL])


# Validation: a bad record is set aside with a reason, never raised.


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        ({"emailWork": "x@"}, "emailWork left out: email 'x@' is not a valid address"),
        ({"emailWork": "anna lindstrom@acme.example"}, "is not a valid address"),
        ({"emailWork": "a" * 89 + "@acme.example"}, "is not a valid address"),
        ({"emailWork": "anna@localhost"}, "email 'anna@localhost' is not a valid address"),
        ({"dateOfBirth": "12/03/1990"}, "dateOfBirth '12/03/1990' is not a date"),
        ({"dateOfBirth": "1990-13-12"}, "dateOfBirth '1990-13-12' is not a date"),
        ({"phone1": {"number": "1"}}, "phone1 left out: phone1 is not text"),
        ({"city": "x" * 300}, "city left out: city longer than 256 characters"),
    ],
)
def test_an_unusable_optional_field_is_left_out_with_a_warning_and_the_person_kept(
    changes: dict[str, Any], warning: str
) -> None:
    """Only what identifies a person makes a record invalid: a person whose e-mail (say) cannot
    be used still gets accounts where it is not needed (a SCIM app that makes userName from it
    asks for a manual step instead)."""
    person = parse(employee(**changes))
    (found,) = person.warnings
    assert warning in found
    field = next(iter(changes))
    values = {"emailWork": person.email, "dateOfBirth": person.birth_date}
    values |= {"phone1": person.phone, "city": person.city}
    assert values[field] is None
    assert person_from_fields(person.person_id, person.fields()) == person


def test_a_person_without_warnings_keeps_the_content_hash_it_had() -> None:
    person = parse(employee())
    assert person.warnings == ()
    assert "warnings" not in person.fields()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"firstName": ...}, "missing firstName"),
        ({"firstName": "  \t "}, "missing firstName"),
        ({"lastName": None}, "missing lastName"),
        ({"lastName": "x" * 257}, "lastName longer than 256 characters"),
        ({"employment": []}, "employment number missing"),
        ({"employment": [{"employmentNumber": " "}]}, "employment number missing"),
        ({"firstName": {"value": "Anna"}}, "firstName is not text"),
        ({"id": ...}, "missing id"),
    ],
)
def test_a_bad_employee_is_set_aside_with_its_reason(changes: dict[str, Any], reason: str) -> None:
    invalid = refusal(employee(**changes))
    assert reason in invalid.reason
    assert "Acme AB" in invalid.source_ref


@pytest.mark.parametrize(
    ("periods", "reason"),
    [
        ([], "no employment period"),
        ([period(fromDate="someday")], "employment period p-1: fromDate 'someday' is not a date"),
        ([period(toDate="2019-01-01")], "employment period p-1 ends (2019-01-01) before it starts"),
    ],
)
def test_bad_employment_periods_set_the_employee_aside(
    periods: list[dict[str, Any]], reason: str
) -> None:
    assert reason in refusal(EMPLOYEE, periods).reason


def test_a_set_aside_record_names_the_employee_company_and_number() -> None:
    invalid = refusal(employee(firstName=""))
    assert invalid.source_ref == "employee e-1 (Acme AB #1001)"
    assert '"id": "e-1"' in invalid.excerpt
    assert refusal(employee(id=..., employment=...)).source_ref == "employee ? (Acme AB #?)"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "Id", "firstName", "LastName", "employment", "emailWork", "gender"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
            max_leaves=6,
        ),
    ),
    st.lists(st.dictionaries(st.sampled_from(["id", "fromDate", "ToDate", "accounts"]), st.text())),
)
def test_parse_person_never_raises(record: dict[str, Any], periods: list[dict[str, Any]]) -> None:
    assert isinstance(parse_person(record, periods, LOOKUPS, TODAY), Person | InvalidRecord)


# Sanitising.


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Anna  ", "Anna"),
        ("An\x00na\x7f", "Anna"),
        ("Storgatan 1\r\nLgh 1102", "Storgatan 1 Lgh 1102"),
        ("A\u0308sa", "Äsa"),  # decomposed → NFC
        ("Anna\u00a0Maria\tLind", "Anna Maria Lind"),
        ("\x1b[31mRed", "[31mRed"),
    ],
)
def test_sanitise(raw: str, clean: str) -> None:
    assert sanitise(raw) == clean


def test_text_values_are_sanitised_on_the_way_in() -> None:
    person = parse(employee(firstName=" A\u0308sa\x07 ", city="Sto\ncholm", postalCode=11122))
    assert (person.given_name, person.city, person.postal_code) == ("Äsa", "Sto cholm", "11122")


def test_blank_optional_fields_become_none() -> None:
    person = parse(employee(emailWork="", phone1="  ", phone4=None, dateOfBirth=""))
    assert (person.email, person.phone, person.mobile, person.birth_date) == (
        None,
        None,
        None,
        None,
    )


# Employee number, manager, dates.


@pytest.mark.parametrize(
    ("record", "number"),
    [
        ({"employment": [{"employmentNumber": "12"}, {"employmentNumber": "13"}]}, "12"),
        ({"employment": [{"employmentNumber": ""}, {"employmentNumber": "13"}]}, "13"),
        ({"employment": {"employmentNumber": 14}}, "14"),
        ({"employmentNumber": "15"}, "15"),
        ({"employment": None}, None),
        ({"employment": "16"}, None),
        ({"employment": True}, None),
    ],
)
def test_employment_number(record: dict[str, Any], number: str | None) -> None:
    assert employment_number(record) == number


def test_a_self_reference_is_no_manager() -> None:
    assert parse(employee(immediateManagerEmployeeId="e-1")).manager_id is None
    assert parse(employee(immediateManagerEmployeeId=None)).manager_id is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-09-01", date(2026, 9, 1)),
        ("2026-09-01T00:00:00", date(2026, 9, 1)),
        ("2026-09-01T23:59:59.123", date(2026, 9, 1)),
        ("2026-09-01T23:59:59.1234567", date(2026, 9, 1)),
        ("2026-09-01T00:00:00Z", date(2026, 9, 1)),
        ("0001-01-01T00:00:00", None),
        ("", None),
    ],
)
def test_parse_day(text: str, day: date | None) -> None:
    assert parse_day(text) == day


@pytest.mark.parametrize("text", ["01/09/2026", "2026-9-1", "2026-02-30", "20260901", "tomorrow"])
def test_parse_day_refuses_other_shapes(text: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_day(text)


# The current period.


def span(start: str | None, end: str | None, name: str = "p") -> Period:
    return Period(
        name,
        date.fromisoformat(start) if start else None,
        date.fromisoformat(end) if end else None,
        None,
        None,
        {},
    )


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        ([span("2020-01-01", None, "now")], "now"),
        ([span("2020-01-01", "2026-11-28", "now")], "now"),  # the last day still counts
        ([span("2019-01-01", "2020-12-31", "old"), span("2021-01-01", None, "now")], "now"),
        ([span("2026-12-01", None, "next")], "next"),  # pre-hire
        ([span("2027-03-01", None, "later"), span("2026-12-01", "2027-02-28", "next")], "next"),
        (
            [span("2019-01-01", "2020-12-31", "old"), span("2021-01-01", "2025-06-30", "last")],
            "last",
        ),
        (
            [span("2020-01-01", "2026-10-31", "leaving"), span("2027-01-01", None, "rehire")],
            "rehire",
        ),
        ([span(None, None, "open")], "open"),
    ],
)
def test_current_period(periods: list[Period], expected: str) -> None:
    chosen = current_period(periods, TODAY)
    assert chosen is not None
    assert chosen.id == expected


def test_a_leaver_keeps_the_dates_of_the_last_period() -> None:
    person = parse(EMPLOYEE, [period(fromDate="2019-05-01", toDate="2026-10-31T00:00:00")])
    assert person.employment.start_date == date(2019, 5, 1)
    assert person.employment.end_date == date(2026, 10, 31)
    assert person.employment.has_ended_by(TODAY)


# Lookups: titles, types, organisation.


@pytest.mark.parametrize("type_id", ["ty-2"])
def test_an_external_employment_type_marks_the_person_external(type_id: str) -> None:
    assert parse(EMPLOYEE, [period(employmentTypeId=type_id)]).employment.is_external


@pytest.mark.parametrize(
    ("kind", "is_external"),
    [
        (Coded("KONSULT", None), True),
        (Coded("Hired help", "inhyrd"), True),
        (Coded("External personnel", "X"), True),
        (Coded("Tillsvidare", "TV"), False),
    ],
)
def test_external_types_match_name_or_code_case_insensitively(
    kind: Coded, is_external: bool
) -> None:
    lookups = Lookups(ACME, {}, {"k": kind}, external_types=LOOKUPS.external_types)
    person = parse_person(EMPLOYEE, [period(employmentTypeId="k")], lookups, TODAY)
    assert isinstance(person, Person)
    assert person.employment.is_external is is_external


def test_unknown_title_type_and_account_ids_are_left_empty() -> None:
    strange = period(
        titleId="t-x",
        employmentTypeId=None,
        accounts=[{"accountDistributionId": "d-dept", "accountId": "a-x"}],
    )
    person = parse(EMPLOYEE, [strange])
    assert (person.employment.title, person.employment.employment_type) == (None, None)
    assert person.organisation == ()
    assert person.organisation_ids == ()


DISTRIBUTIONS_PASCAL: list[dict[str, Any]] = [
    {"Id": "d-dept", "Name": "Department", "Level": 2},
    {"Id": "d-proj", "Name": "Project"},
    {"Id": "d-office", "Name": "Office", "Level": 1},
]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ([], [("d-office", "Office"), ("d-dept", "Department"), ("d-proj", "Project")]),
        (["department", "OFFICE", "Missing"], [("d-dept", "Department"), ("d-office", "Office")]),
    ],
)
def test_select_distributions(wanted: list[str], expected: list[tuple[str, str]]) -> None:
    assert select_distributions(DISTRIBUTIONS_PASCAL, wanted) == expected


def test_distributions_without_levels_keep_the_api_order() -> None:
    raw = [{"id": "b", "name": "B"}, {"id": "a", "name": "A"}]
    assert select_distributions(raw, []) == [("b", "B"), ("a", "A")]


def test_lookups_read_from_either_casing() -> None:
    assert read_company({"Id": "c-1", "CompanyNumber": 1, "Name": "Acme AB"}) == ACME
    assert read_company({"name": "no id"}) is None
    titles = read_coded([{"Id": "t-1", "Code": "EK", "Name": "Ekonom"}, {"id": "t-2"}])
    assert titles == {"t-1": Coded("Ekonom", "EK")}
    level = read_level(
        ("d-1", "Office"), [{"id": "a-1", "code": "100"}, {"Id": "a-2", "Name": "HQ"}]
    )
    assert level.accounts == {"a-1": "100", "a-2": "HQ"}


def test_company_matches_id_or_number() -> None:
    assert ACME.matches("C-1")
    assert ACME.matches("1")
    assert not ACME.matches("2")


# Config.


def config(**changes: Any) -> FlexHrmConfig:
    settings_ = {"url": "https://api.flexhrm.example/api/", "instance": "acme", "username": "api"}
    return FlexHrmConfig.model_validate({**settings_, "password": "secret", **changes})


@pytest.mark.parametrize(
    ("url", "dialect", "expected"),
    [
        ("https://api.flexhrm.com/api/", "auto", "camel"),
        ("https://acme.flexhosting.se/webapi/api", "auto", "pascal"),
        ("https://acme.flexhosting.se/webapi/api/", "camel", "camel"),
        ("https://api.flexhrm.com/api/", "pascal", "pascal"),
    ],
)
def test_the_dialect_is_detected_from_the_url(url: str, dialect: str, expected: str) -> None:
    assert config(url=url, dialect=dialect).resolved_dialect == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "https://api.flexhrm.com/"},
        {"url": "ftp://acme/api/"},
        {"page_size": 501},
        {"instance": ""},
        {"time_zone": "Mars/Olympus"},
        {"unknown_setting": 1},
    ],
)
def test_bad_settings_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        config(**changes)


def test_settings_defaults_and_window() -> None:
    settings_ = config()
    assert settings_.url.endswith("/api/")
    assert (settings_.auth_encoding, settings_.page_size, settings_.modified_since_days) == (
        "auto",
        200,
        30,
    )
    assert "secret" not in repr(settings_)
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert settings_.default_window_start(now) == now - timedelta(days=30)


# The client's wire rules.


@pytest.mark.parametrize(
    "body",
    [
        [{"id": 1}],
        {"items": [{"id": 1}], "totalCount": 1},
        {"Items": [{"id": 1}]},
        {"data": [{"id": 1}]},
        {"Data": [{"id": 1}]},
        {"Results": [{"id": 1}]},
    ],
)
def test_lists_come_bare_or_in_an_envelope(body: object) -> None:
    assert extract_items(body, "employees") == [{"id": 1}]


@pytest.mark.parametrize("body", [{"total": 1}, "text", [1, 2], None])
def test_an_unexpected_list_shape_is_an_error(body: object) -> None:
    with pytest.raises(FlexHrmError, match="unexpected shape"):
        extract_items(body, "employees")


def test_retry_after_reads_seconds_or_an_http_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Sat, 28 Nov 2026 12:00:07 GMT", now) == 7.0
    assert retry_after_seconds("Sat, 28 Nov 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_describe_problem_reads_problem_details_or_text() -> None:
    problem = {
        "Title": "One or more validation errors occurred.",
        "detail": "bad page",
        "errors": {"pageSize": ["Max 500."]},
    }
    assert describe_problem(json.dumps(problem)) == (
        "One or more validation errors occurred.; bad page; pageSize: Max 500."
    )
    assert describe_problem("  Bad\n request ") == "Bad request"
    assert describe_problem("") == ""


def test_modified_since_is_sent_as_naive_utc() -> None:
    stockholm = timezone(timedelta(hours=1))
    assert (
        format_modified_since(datetime(2026, 11, 28, 13, 30, 5, 999, stockholm))
        == "2026-11-28T12:30:05"
    )
    assert format_modified_since(datetime(2026, 11, 28, 13, 30, 5)) == "2026-11-28T13:30:05"


# The client over an in-memory transport, for server behaviours the simulator does not produce.

Handler = Callable[[httpx2.Request], httpx2.Response]


def client_for(
    handler: Handler, sleeps: list[float] | None = None, **changes: Any
) -> FlexHrmClient:
    recorder = (sleeps if sleeps is not None else []).append
    return FlexHrmClient(config(**changes), transport=httpx2.MockTransport(handler), sleep=recorder)


def test_auto_auth_falls_back_to_the_raw_credential_once_and_keeps_it() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers["Authorization"])
        assert request.headers["Instance"] == "acme"
        ok = request.headers["Authorization"] == "Basic acme:api:secret"
        return httpx2.Response(200, json=[]) if ok else httpx2.Response(401)

    client = client_for(handler)
    assert client.employment_titles("c-1") == []
    assert client.employment_types("c-1") == []
    encoded = "Basic " + base64.b64encode(b"acme:api:secret").decode()
    assert seen == [encoded, "Basic acme:api:secret", "Basic acme:api:secret"]


@pytest.mark.parametrize(("encoding", "tries"), [("base64", 1), ("raw", 1), ("auto", 2)])
def test_refused_credentials_say_401(encoding: str, tries: int) -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers["Authorization"])
        return httpx2.Response(401)

    client = client_for(handler, auth_encoding=encoding)
    with pytest.raises(CredentialsRefusedError, match=r"refused the credentials \(401\)"):
        client.list_companies()
    with pytest.raises(CredentialsRefusedError):
        client.list_companies()
    assert len(seen) == 2 * tries
    assert len(set(seen)) == tries


def test_a_raw_credential_may_hold_any_character() -> None:
    seen: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.extend(
            value for name, value in request.headers.raw if name.lower() == b"authorization"
        )
        return httpx2.Response(200, json=[])

    client_for(handler, auth_encoding="raw", password="hemlig-åäö").accounts("d-1")
    assert seen == ["Basic acme:api:hemlig-åäö".encode()]


def test_forbidden_names_the_company() -> None:
    client = client_for(lambda _: httpx2.Response(403, text="Forbidden"))
    with pytest.raises(AccessDeniedError, match=r"403.*company c-9"):
        client.employment_titles("c-9")


def test_a_rejected_request_quotes_the_problem_details() -> None:
    problem = {"title": "Bad request", "detail": "companyId is not a guid"}
    client = client_for(lambda _: httpx2.Response(400, json=problem))
    with pytest.raises(
        RequestRejectedError, match=r"HTTP 400.*Bad request; companyId is not a guid"
    ):
        client.employment_types("nope")


def test_retries_honour_an_http_date_and_give_up_after_max_retries() -> None:
    sleeps: list[float] = []
    later = datetime.now(UTC) + timedelta(seconds=30)
    header = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    client = client_for(
        lambda _: httpx2.Response(429, headers={"Retry-After": header}), sleeps, max_retries=2
    )
    with pytest.raises(UnavailableError, match="after 3 attempts: HTTP 429"):
        client.accounts("d-1")
    assert len(sleeps) == 2
    assert all(25 <= s <= 30 for s in sleeps)


def test_back_off_grows_exponentially_with_jitter_and_is_capped() -> None:
    client = client_for(lambda _: httpx2.Response(200, json=[]), backoff_seconds=1.0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (3, 8.0), (10, 60.0)]:
        assert ceiling / 2 <= client.delay(attempt, None) <= ceiling
    assert client.delay(0, 600.0) == 60.0


def test_an_endpoint_that_ignores_paging_is_read_once() -> None:
    rows = [{"id": str(n)} for n in range(3)]
    client = client_for(lambda _: httpx2.Response(200, json={"Data": rows}), page_size=3)
    assert client.employment_periods("e-1") == rows
