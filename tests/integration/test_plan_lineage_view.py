"""The plan's diff joins the run's derivations with each change's lineage, and only for the
changes that carry one: a group's displayName is not explained by the users' displayName rule."""

from __future__ import annotations

import pytest
from tests.integration.api_data import make_dataset

from hrsync.app.models import Run, RunChange
from hrsync.app.runs.plan_diff import plan_diff
from hrsync.connectors.active_directory.lineage import derivations
from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.domain.changes import UpdateAttributes, UpdateGroup
from hrsync.domain.ids import AccountId, GroupId, PersonId
from hrsync.domain.lineage import Lineage, derivations_to_json
from hrsync.domain.plan import serialise_changes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]
POLICY = DirectoryPolicy("OU=People,DC=example,DC=test", "example.test")


def test_only_changes_with_lineage_are_explained() -> None:
    data = make_dataset()
    user = UpdateAttributes(
        PersonId(data.person.person_id),
        AccountId("a1"),
        "CN=Anna Berg,OU=People,DC=example,DC=test",
        {"displayName": "Anna Andersson"},
        {"displayName": "Anna Berg"},
        "HR data changed",
        Lineage({"given_name": "Anna", "family_name": "Berg"}),
    )
    group = UpdateGroup(
        GroupId("g1"),
        "CN=Ekonomi,OU=Groups,DC=example,DC=test",
        None,
        {"displayName": "Ekonomi"},
        {"displayName": "Finans"},
        "the unit was renamed",
    )
    run = Run.objects.create(
        connection=data.connection,
        is_simulation=True,
        status=Run.Status.SIMULATED,
        derivations=derivations_to_json(derivations(POLICY)),
    )
    for change, record in zip((user, group), serialise_changes((user, group)), strict=True):
        RunChange.objects.create(
            run=run, person=data.person if change is user else None, kind=record["kind"],
            ref=change.ref, payload=record,
        )  # fmt: skip

    diff = plan_diff(run)

    shown = {
        change.kind: change.attributes[-1] for person in diff.people for change in person.changes
    }
    assert shown["update"].rule == 'Trim(Join(" ", [given_name], [family_name]))'
    assert shown["update"].rule_source == "default"
    assert shown["update"].fields_read == {"given_name": "Anna", "family_name": "Berg"}
    assert (shown["update_group"].name, shown["update_group"].rule) == ("displayName", "")
    as_json = [c for p in diff.to_json()["people"] for c in p["changes"] if c["kind"] == "update"]
    assert as_json[0]["attributes"][0]["fields_read"] == {
        "given_name": "Anna",
        "family_name": "Berg",
    }
