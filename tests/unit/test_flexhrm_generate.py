"""The Flex HRM simulator's dataset: the generator's realism and constraints; validation on load."""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from hrsync.simulators.flexhrm import DatasetError, generate_dataset, load_dataset
from hrsync.simulators.flexhrm.generate import ascii_fold, luhn_digit
from hrsync.simulators.flexhrm.store import merge_patch

TODAY = date(2025, 3, 14)
DATASET = generate_dataset(count=1500, seed=11, today=TODAY)
EMPLOYEES = DATASET["employees"]
BY_ID = {e["id"]: e for e in EMPLOYEES}
EXAMPLE = Path(__file__).parents[2] / "docs" / "connectors" / "flexhrm-dataset.example.json"


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value[:10])


def _current(employee: dict[str, Any]) -> dict[str, Any]:
    period: dict[str, Any] = employee["employmentPeriods"][-1]
    return period


def _is_active(employee: dict[str, Any]) -> bool:
    period = _current(employee)
    start, end = _day(period["fromDate"]), _day(period["toDate"])
    return start is not None and start <= TODAY and (end is None or end >= TODAY)


def _type_name(employee: dict[str, Any]) -> str:
    names: dict[str, str] = {t["id"]: t["name"] for t in DATASET["employmentTypes"]}
    return names[_current(employee)["employmentTypeId"]]


def test_the_same_seed_and_day_give_the_same_dataset() -> None:
    assert generate_dataset(count=300, seed=11, today=TODAY) == generate_dataset(
        count=300, seed=11, today=TODAY
    )


@pytest.mark.parametrize(
    "other", [{"seed": 12, "today": TODAY}, {"seed": 11, "today": TODAY + timedelta(1)}]
)
def test_another_seed_or_day_gives_another_dataset(other: dict[str, Any]) -> None:
    assert generate_dataset(count=300, **other) != generate_dataset(count=300, seed=11, today=TODAY)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 17, 250])
def test_exactly_count_employees_and_the_dataset_loads(count: int, tmp_path: Path) -> None:
    dataset = generate_dataset(count=count, seed=5, today=TODAY)
    assert len(dataset["employees"]) == count
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(dataset, ensure_ascii=False), encoding="utf-8")
    assert load_dataset(path) == dataset


def test_three_companies_with_valid_organisation_numbers() -> None:
    companies = DATASET["companies"]
    assert [c["companyNumber"] for c in companies] == [1, 2, 3]
    assert {c["name"] for c in companies} == {
        "Acme Sverige AB",
        "Acme Norden AB",
        "Acme Konsult AB",
    }
    for company in companies:
        digits = company["organizationNumber"].replace("-", "")
        assert re.fullmatch(r"\d{10}", digits)
        assert luhn_digit(digits[:9]) == digits[9]


def test_every_non_root_has_a_manager_in_the_dataset_and_managers_are_active() -> None:
    roots = [e for e in EMPLOYEES if e["immediateManagerEmployeeId"] is None]
    assert len(roots) == len(DATASET["companies"])
    for employee in EMPLOYEES:
        manager_id = employee["immediateManagerEmployeeId"]
        if manager_id is None:
            continue
        manager = BY_ID[manager_id]
        assert manager["companyId"] == employee["companyId"]
        assert _is_active(manager), (manager["firstName"], _current(manager))


def test_manager_chains_end_at_a_root_without_cycles() -> None:
    depths: Counter[int] = Counter()
    for employee in EMPLOYEES:
        seen = {employee["id"]}
        current = employee
        while current["immediateManagerEmployeeId"] is not None:
            current = BY_ID[current["immediateManagerEmployeeId"]]
            assert current["id"] not in seen
            seen.add(current["id"])
        depths[len(seen)] += 1
    assert set(depths) == {1, 2, 3}  # CEO, department head, team member


def test_employment_numbers_are_digit_strings_unique_per_company() -> None:
    keys = [(e["companyId"], e["employment"][0]["employmentNumber"]) for e in EMPLOYEES]
    assert len(set(keys)) == len(keys)
    assert all(number.isdigit() for _, number in keys)


def test_names_carry_diacritics_duplicates_and_multi_part_surnames() -> None:
    names = Counter((e["firstName"], e["lastName"]) for e in EMPLOYEES)
    text = " ".join(f"{first} {last}" for first, last in names)
    assert set("åäöÅÄÖØé") <= set(text)
    assert names[("Anna", "Andersson")] >= 3
    assert {"Lindqvist-Öhman", "von Essen", "de la Cruz", "Ødegaard", "Nguyen", "Ahmed"} <= {
        last for _, last in names
    }


def test_a_small_dataset_still_shows_the_awkward_names() -> None:
    small = generate_dataset(count=10, seed=1, today=TODAY)["employees"]
    names = [(e["firstName"], e["lastName"]) for e in small]
    assert ("Åsa", "Öberg") in names
    assert names.count(("Anna", "Andersson")) == 2


def test_pre_hires_leavers_and_temporary_contracts_in_realistic_shares() -> None:
    starts = [_day(_current(e)["fromDate"]) for e in EMPLOYEES]
    ends = [_day(_current(e)["toDate"]) for e in EMPLOYEES]
    pre_hires = [s for s in starts if s is not None and s > TODAY]
    leavers = [e for e in ends if e is not None and e < TODAY]
    future_ends = [e for e in ends if e is not None and e >= TODAY]
    assert all(TODAY + timedelta(1) <= s <= TODAY + timedelta(40) for s in pre_hires)
    assert all(TODAY - timedelta(60) <= e <= TODAY - timedelta(1) for e in leavers)
    assert 0.01 < len(pre_hires) / len(EMPLOYEES) < 0.06
    assert 0.025 < len(leavers) / len(EMPLOYEES) < 0.09
    assert future_ends


def test_employment_types_include_external_personnel_at_about_five_percent() -> None:
    types = Counter(_type_name(e) for e in EMPLOYEES)
    assert types["Tillsvidareanställning"] > len(EMPLOYEES) / 2
    assert types["Visstidsanställning"] > 0
    assert 0.025 < types["External Personnel"] / len(EMPLOYEES) < 0.08


def test_periods_are_ordered_and_do_not_overlap() -> None:
    for employee in EMPLOYEES:
        periods = employee["employmentPeriods"]
        for earlier, later in itertools.pairwise(periods):
            assert earlier["toDate"] is not None
            assert _day(earlier["toDate"]) < _day(later["fromDate"])  # type: ignore[operator]
    assert any(len(e["employmentPeriods"]) > 1 for e in EMPLOYEES)


def test_work_mail_is_folded_ascii_unique_and_sometimes_absent() -> None:
    mails = [e["emailWork"] for e in EMPLOYEES]
    present = [m for m in mails if m is not None]
    assert 0 < mails.count(None) < len(mails) * 0.05
    assert len(set(present)) == len(present)
    assert all(re.fullmatch(r"[a-z.\-]+\d*@acme\.example", m) for m in present)
    assert "asa.oberg@acme.example" in present


def test_phones_are_swedish_and_national_ids_check_out() -> None:
    for employee in EMPLOYEES:
        for key in ("phone1", "phone4"):
            if key in employee:
                assert re.fullmatch(r"\+46 (8|31|40|90|7[0236]) \d{3} \d{2} \d{2}", employee[key])
        national_id = employee["nationalIdentificationNumber"]
        if national_id is not None:
            assert national_id[:8] == employee["dateOfBirth"].replace("-", "")
            digits = national_id[2:8] + national_id[9:12]
            assert luhn_digit(digits) == national_id[12]
            assert int(national_id[11]) % 2 == (1 if employee["gender"] == 1 else 0) or (
                employee["gender"] == 0
            )


def test_organisation_has_offices_departments_and_teams() -> None:
    orgs = [e["organization"] for e in EMPLOYEES]
    assert {o["Office"] for o in orgs} == {"Stockholm", "Göteborg", "Malmö", "Umeå"}
    assert {"Finance", "Ekonomi", "IT", "Sales", "HR", "Operations"} <= {
        o["Department"] for o in orgs
    }
    assert all(list(o)[:2] == ["Office", "Department"] for o in orgs)
    assert sum("Team" in o for o in orgs) > len(orgs) * 0.9


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Åsa Öberg", "Asa Oberg"), ("Ødegaard", "Odegaard"), ("Linnéa", "Linnea"), ("Ähl", "Ahl")],
)
def test_ascii_fold(text: str, folded: str) -> None:
    assert ascii_fold(text) == folded


def test_the_documented_example_dataset_loads() -> None:
    example = load_dataset(EXAMPLE)
    assert example["employees"]


Dataset = dict[str, Any]


def _set(key: str, value: Any) -> Any:
    return lambda d: d["employees"][4].update({key: value})


def _take_a_colleagues_number(d: Dataset) -> None:
    colleague = d["employees"][3]
    d["employees"][4].update(companyId=colleague["companyId"], employment=colleague["employment"])


def _add_an_open_period_in_2001(d: Dataset) -> None:
    d["employees"][4]["employmentPeriods"].append({"fromDate": "2001-01-01"})


def _start_on_no_date(d: Dataset) -> None:
    d["employees"][4]["employmentPeriods"][0]["fromDate"] = "1st of May"


def _repeat_the_first_employee(d: Dataset) -> None:
    d["employees"].append(d["employees"][0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("id", "E-4"), "not a lower-case UUID"),
        (_set("companyId", "c0000000-0000-4000-8000-000000000009"), "unknown companyId"),
        (_set("lastName", ""), "missing lastName"),
        (_take_a_colleagues_number, "employment number .* is taken"),
        (_set("gender", 3), "gender"),
        (_add_an_open_period_in_2001, "overlap"),
        (_start_on_no_date, "not a date"),
        (_set("organization", {"Team": ""}), "organization"),
        (_repeat_the_first_employee, "duplicate employee id"),
    ],
)
def test_loading_refuses_a_broken_dataset(change: Any, message: str, tmp_path: Path) -> None:
    dataset = copy.deepcopy(generate_dataset(count=6, seed=2, today=TODAY))
    change(dataset)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(dataset), encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_dataset(path)


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # RFC 7386 appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch) == result
