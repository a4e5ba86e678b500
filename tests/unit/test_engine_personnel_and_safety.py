"""Personnel-change classification and the safety gate."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from hrsync.domain.changes import DisableAccount
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.person import person_from_fields
from hrsync.domain.plan import Plan
from hrsync.engine.personnel import ChangeKind, classify_change
from hrsync.engine.safety import SafetyPolicy, judge_plan
from tests.unit.test_engine_plan import TODAY, person


def with_employment(**changes: object):  # type: ignore[no-untyped-def]
    p = person(1)
    return dataclasses.replace(p, employment=dataclasses.replace(p.employment, **changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (None, person(1), ChangeKind.JOINER),
        (person(1), person(1, family="Lind"), ChangeKind.UPDATE),
        (person(1), with_employment(title="Controller"), ChangeKind.MOVER),
        (
            person(1),
            dataclasses.replace(person(1), organisation=(("Office", "Umeå"),)),
            ChangeKind.MOVER,
        ),
        (person(1), with_employment(end_date=TODAY + timedelta(days=20)), ChangeKind.LEAVER),
        (
            with_employment(end_date=TODAY - timedelta(days=90)),
            with_employment(start_date=TODAY, end_date=None),
            ChangeKind.REHIRE,
        ),
    ],
)
def test_changes_are_classified(before, after, kind) -> None:  # type: ignore[no-untyped-def]
    change = classify_change(before, after, TODAY)
    assert change is not None and change.kind is kind
    assert change.is_new is (before is None)


def test_an_unchanged_person_is_no_change_and_the_diff_names_old_and_new() -> None:
    assert classify_change(person(1), person(1), TODAY) is None
    change = classify_change(person(1), person(1, given="Anne"), TODAY)
    assert change is not None and change.changed == {"given_name": ("Anna", "Anne")}


def test_a_person_survives_the_store_round_trip() -> None:
    original = dataclasses.replace(
        with_employment(end_date=date(2027, 1, 31)),
        organisation=(("Office", "Göteborg"), ("Department", "IT")),
        manager_id=PersonId("p9"),
        email="anna@acme.example",
    )
    assert person_from_fields(original.person_id, original.fields()) == original


def disables(count: int) -> Plan:
    return Plan(
        tuple(
            DisableAccount(PersonId(f"p{n}"), AccountId(f"a{n}"), f"CN={n}", "ended")
            for n in range(count)
        )
    )


@pytest.mark.parametrize(
    ("count", "population", "held"),
    [(5, 1000, False), (501, 10_000, True), (11, 100, True), (5, 100, False), (8, 10, False)],
)
def test_the_gate_holds_mass_disables(count: int, population: int, held: bool) -> None:
    verdict = judge_plan(disables(count), population, SafetyPolicy())
    assert verdict.is_held is held
    assert all("disable" in reason for reason in verdict.reasons)
