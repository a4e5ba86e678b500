"""The AFAS name rules, table-driven: the family name each Naamgebruik code gives, the fallbacks,
and the primary employment rule."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.connectors.afas.names import NameParts, convention_of, joined, used_family_name
from hrsync.connectors.afas.parse import Job, Unit, primary_job, unit_path

BOTH = NameParts(prefix="van der", family_name="Berg", partner_prefix="de", partner_name="Vries")
OWN_ONLY = NameParts(prefix="van der", family_name="Berg")
PARTNER_ONLY = NameParts(partner_prefix="'t", partner_name="Hart")


@pytest.mark.parametrize(
    ("parts", "code", "family_name", "convention", "warns"),
    [
        (BOTH, "0", "van der Berg", "B", False),
        (BOTH, "1", "de Vries - van der Berg", "PB", False),
        (BOTH, "2", "de Vries", "P", False),
        (BOTH, "3", "van der Berg - de Vries", "BP", False),
        (BOTH, None, "van der Berg", "B", False),
        (BOTH, " 2 ", "de Vries", "P", False),
        (BOTH, "7", "van der Berg", "B", True),
        (OWN_ONLY, "2", "van der Berg", "P", True),
        (OWN_ONLY, "1", "van der Berg", "PB", True),
        (PARTNER_ONLY, "0", "'t Hart", "B", False),
        (PARTNER_ONLY, "3", "'t Hart", "BP", False),
        (NameParts(family_name="Çelik"), "0", "Çelik", "B", False),
    ],
)
def test_the_family_name_by_name_usage_code(
    parts: NameParts, code: str | None, family_name: str, convention: str, warns: bool
) -> None:
    used = used_family_name(parts, code)
    assert (used.family_name, used.convention, used.warning is not None) == (
        family_name,
        convention,
        warns,
    )


def test_the_separator_and_table_are_the_callers() -> None:
    swapped = {"0": "B", "1": "PB", "2": "BP", "3": "P"}
    assert used_family_name(BOTH, "2", swapped, " – ").family_name == "van der Berg – de Vries"  # noqa: RUF001


@pytest.mark.parametrize(
    ("prefix", "name", "expected"),
    [
        ("van der", "Berg", "van der Berg"),
        ("", "Berg", "Berg"),
        (" de ", "Vries", "de Vries"),
        ("de", "", "de"),
    ],
)
def test_joined(prefix: str, name: str, expected: str) -> None:
    assert joined(prefix, name) == expected


def test_an_unknown_code_names_itself_in_the_warning() -> None:
    assert convention_of("X", {"0": "B"}) == (
        "B",
        "Naamgebruik_code 'X' unknown: the own name is used",
    )


TODAY = date(2026, 12, 7)
OLD = Job("old", date(2010, 1, 1), date(2014, 12, 31), title="Stagiair")
MAIN = Job("main", date(2015, 1, 1), None, title="Planner")
SECOND = Job("second", date(2022, 3, 1), None, title="Controller")
NEXT = Job("next", date(2027, 1, 1), None, title="Directeur")
LEFT = Job("left", date(2015, 1, 1), date(2026, 11, 30), title="Accountmanager")


@pytest.mark.parametrize(
    ("jobs", "rule", "expected"),
    [
        ((OLD, MAIN, SECOND), "latest_start", "second"),
        ((OLD, MAIN, SECOND), "earliest_start", "main"),
        ((OLD, LEFT), "latest_start", "left"),
        ((OLD, NEXT), "latest_start", "next"),  # a pre-hire: the contract about to start
        ((MAIN, NEXT), "latest_start", "main"),  # active beats upcoming
        ((), "latest_start", None),
    ],
)
def test_the_primary_employment(jobs: tuple[Job, ...], rule: str, expected: str | None) -> None:
    chosen = primary_job(jobs, TODAY, rule)  # type: ignore[arg-type]
    assert (chosen.id if chosen else None) == expected


def test_the_unit_path_runs_top_down_and_survives_a_cycle() -> None:
    units = {u.id: u for u in (Unit("A", "Top"), Unit("B", "Mid", "A"), Unit("C", "Leaf", "B"))}
    assert [u.id for u in unit_path(units, "C")] == ["A", "B", "C"]
    looped = {"X": Unit("X", "X", "Y"), "Y": Unit("Y", "Y", "X")}
    assert [u.id for u in unit_path(looped, "X")] == ["Y", "X"]
    assert unit_path(units, "missing") == []


names = st.text(alphabet=st.characters(categories=("L",)), min_size=1, max_size=12)
prefixes = st.sampled_from(["", "van", "de", "van der", "'t", "in 't"])


@given(prefixes, names, prefixes, names)
def test_every_convention_keeps_the_names_it_promises(
    prefix: str, own: str, partner_prefix: str, partner: str
) -> None:
    parts = NameParts(prefix, own, partner_prefix, partner)
    own_name, partner_name = joined(prefix, own), joined(partner_prefix, partner)
    results = {code: used_family_name(parts, code).family_name for code in ("0", "1", "2", "3")}
    assert results["0"] == own_name
    assert results["2"] == partner_name
    assert results["1"] == f"{partner_name} - {own_name}"
    assert results["3"] == f"{own_name} - {partner_name}"
    assert all(used_family_name(parts, code).warning is None for code in results)
