"""The plan's diff joins the run's derivations with each change's lineage, and only for the
changes that carry one: a group's displayName is not explained by the users' displayName rule."""

from __future__ import annotations

import pytest
from tests.integration.api_data import make_dataset

from hrsync.app.models import Link, Person, Run, RunChange
from hrsync.app.runs.plan_diff import plan_diff
from hrsync.connectors.active_directory.lineage import derivations
from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.scim.patch import MANAGER_PATH
from hrsync.domain.changes import (
    AddMembers,
    CreateAccount,
    SetManager,
    UpdateAttributes,
    UpdateGroup,
)
from hrsync.domain.ids import AccountId, EmployeeNumber, GroupId, PersonId
from hrsync.domain.lineage import Derivation, Lineage, derivations_to_json
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


def test_the_diff_names_managers_members_and_fields_as_people_read_them() -> None:
    """A SCIM plan: attributes by the app's labels, the manager and a group's new member by
    name (one linked, one created by the same plan under a provisional ref), the rule's HR
    fields by their labels."""

    data = make_dataset()
    connection = data.connection
    connection.kind, connection.settings = "scim", {"url": "https://app.example/scim/v2"}
    connection.save()
    boss = Person.objects.create(
        source=data.source, person_id="p-boss", employee_number="1040",
        display_name="Per Ek", fields={}, content_hash="x",
    )  # fmt: skip
    Link.objects.create(connection=connection, person=boss, account_id="u-boss", ref="u-boss")
    pid = PersonId(data.person.person_id)
    create = CreateAccount(
        pid, EmployeeNumber(data.person.employee_number), f"new-user:{pid}",
        {'emails[type eq "work"].value': "anna@example.test"}, True, "joiner",
        Lineage({"email": "anna@example.test", "org.Office": "Stockholm"}),
    )  # fmt: skip
    manager = SetManager(
        pid, None, f"new-user:{pid}", None, "u-boss", "manager in HR",
        Lineage({"manager_id": "p-boss"}),
    )  # fmt: skip
    members = AddMembers(GroupId("g1"), "grp-1", (f"new-user:{pid}", "u-boss"), "unit members")
    run = Run.objects.create(
        connection=connection, is_simulation=True, status=Run.Status.SIMULATED,
        derivations=derivations_to_json({
            'emails[type eq "work"].value': Derivation(
                "[email] & [org.Office]", "default", ("email", "org.Office")
            ),
            MANAGER_PATH: Derivation("[manager_id]", "default", ("manager_id",)),
        }),
    )  # fmt: skip
    changes = (create, manager, members)
    for change, record in zip(changes, serialise_changes(changes), strict=True):
        RunChange.objects.create(
            run=run, person=None if change is members else data.person, kind=record["kind"],
            ref=change.ref, payload=record,
        )  # fmt: skip

    diff = plan_diff(run)

    rows = {
        (change.kind, a.name): a for person in diff.people for change in person.changes
        for a in change.attributes
    }  # fmt: skip
    mail = rows[("create", 'emails[type eq "work"].value')]
    assert mail.label == "Work e-mail"
    assert mail.fields_text() == 'E-mail = "anna@example.test"; Office = "Stockholm"'
    boss_row = rows[("set_manager", MANAGER_PATH)]
    assert (boss_row.label, boss_row.old, boss_row.new) == ("Manager", None, "Per Ek (1040)")
    assert boss_row.fields_read == {"manager_id": "Per Ek (1040)"}
    anna = f"{data.person.display_name} ({data.person.employee_number})"
    added = [
        a.new for person in diff.people for change in person.changes
        if change.kind == "add_members" for a in change.attributes
    ]  # fmt: skip
    assert sorted(added) == sorted([anna, "Per Ek (1040)"])
