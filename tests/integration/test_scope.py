"""A connection's scope: only the people of its companies, and those its conditions admit, are
provisioned; a person leaving the scope gets the configured action."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.sites import OFFLINE_CONFIG, stored_site

from hrsync.app.config_errors import ConfigError
from hrsync.app.config_file import load_config
from hrsync.app.connection_settings.steps import apply_step
from hrsync.app.imports.source_import import import_source
from hrsync.app.models import Connection, Person, RunChange, Source
from hrsync.app.runs.connection_run import run_connection
from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC


@pytest.fixture
def sim() -> Iterator[FlexSimulator]:
    server = FlexSimulator(
        generate_dataset(count=40, seed=9), credentials=Credentials("acme", "api", "pw")
    )
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_only_the_companies_in_scope_are_provisioned(
    sim: FlexSimulator,
    samba_dc: SambaDC,
    admin_directory: DirectoryClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = f"OU=scope{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    company = "Acme Sverige AB"
    stored_site(sim, samba_dc, base, monkeypatch, connection={"scope": {"companies": [company]}})
    try:
        import_source("flex")
        summary = run_connection("ad")
        users = [
            values
            for _, values in admin_directory.search(
                base, "(objectClass=user)", ["company", "manager"]
            )
        ]
        assert summary.failed == 0 and users
        assert {u["company"][0].decode() for u in users} == {company}
        assert summary.plan["create"] == len(users)
    finally:
        admin_directory.delete(base, with_subtree=True)


EXTERNAL = "External Personnel"
SCOPE_CONDITIONS = [
    {"field": "employment_type", "op": "not_equals", "value": EXTERNAL},
    {"field": "company", "op": "in", "value": ["Acme Sverige AB"]},
]


def _type_id(dataset: dict[str, Any], company: str, code: str) -> str:
    return next(
        t["id"]
        for t in dataset["employmentTypes"]
        if t["companyId"] == company and t["code"] == code
    )


def _employee(dataset: dict[str, Any], first: str, number: str, code: str) -> dict[str, Any]:
    company = dataset["companies"][0]["id"]
    return {
        "id": str(uuid.uuid4()),
        "companyId": company,
        "firstName": first,
        "lastName": "Scope",
        "employment": [{"employmentNumber": number}],
        "employmentPeriods": [
            {"id": str(uuid.uuid4()), "fromDate": "2021-01-01", "toDate": None,
             "titleId": None, "employmentTypeId": _type_id(dataset, company, code)}
        ],
        "organization": {"Office": "Stockholm", "Department": "Ekonomi"},
    }  # fmt: skip


@pytest.mark.parametrize("action", ["disable", "delete", "leave"])
@pytest.mark.django_db(transaction=True)
def test_scope_conditions_leave_out_externals_and_act_on_a_person_leaving(
    action: str,
    samba_dc: SambaDC,
    admin_directory: DirectoryClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset = generate_dataset(count=12, seed=4)
    external = _employee(dataset, "Extra", "9901", "EXT")
    mover = _employee(dataset, "Moa", "9902", "TV")
    dataset["employees"] += [external, mover]
    sim = FlexSimulator(dataset, credentials=Credentials("acme", "api", "pw"))
    sim.start()
    base = f"OU=scope{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    stored_site(
        sim,
        samba_dc,
        base,
        monkeypatch,
        connection={"scope": {"conditions": SCOPE_CONDITIONS, "when_out_of_scope": action}},
    )

    def account(person_id: str) -> tuple[str, bool] | None:
        found = list(
            admin_directory.search(base, f"(employeeNumber={person_id})", ["userAccountControl"])
        )
        if not found:
            return None
        ((dn, values),) = found
        return dn, not int(values["userAccountControl"][0]) & 2

    try:
        import_source("flex")
        first = run_connection("ad")
        assert first.failed == 0
        assert account(external["id"]) is None
        moa = account(mover["id"])
        assert moa is not None and moa[1]
        externals = Person.objects.filter(fields__employment_type=EXTERNAL)
        other_company = Person.objects.exclude(fields__company_name="Acme Sverige AB")
        assert externals.count() >= 1 and other_company.count() >= 1
        for row in [*externals, *other_company]:
            assert account(row.person_id) is None, row.fields

        # Moa moves to the other company: out of the scope.
        other = dataset["companies"][1]["id"]
        period = mover["employmentPeriods"][0] | {
            "employmentTypeId": _type_id(dataset, other, "TV")
        }
        sim.patch_employee(mover["id"], {"companyId": other, "employmentPeriods": [period]})
        import_source("flex")
        second = run_connection("ad")
        changes = [
            (row.kind, row.payload["reason"])
            for row in RunChange.objects.filter(run_id=second.run_id)
        ]
        reason = 'left the scope: company in ["Acme Sverige AB"]'
        expected = {"disable": [("disable", reason)], "delete": [("delete", reason)], "leave": []}
        assert changes == expected[action]
        state = {"disable": False, "leave": True}.get(action)
        assert (account(mover["id"]) or (None, None))[1] is state
        assert sum(run_connection("ad").plan.values()) == 0
    finally:
        admin_directory.delete(base, with_subtree=True)
        sim.stop()


@pytest.mark.django_db
def test_the_scope_table_is_checked_when_the_config_is_loaded(tmp_path: Path) -> None:
    base = OFFLINE_CONFIG + "\n[connections.ad.scope]\n"
    path = tmp_path / "hrsync.toml"
    for table, message in [
        ('match = "some"', "connections.ad.scope: match is 'all' or 'any', not 'some'"),
        ('when_out_of_scope = "archive"', "connections.ad.scope.when_out_of_scope: Input should"),
        (
            'conditions = [{ field = "employment", op = "equals", value = "x" }]',
            "connections.ad.scope: condition 1: a person has no field 'employment' "
            "(did you mean 'employment_type'?)",
        ),
        (
            'conditions = [{ field = "company", op = "in", value = "Acme" }]',
            "connections.ad.scope: condition 1: the operator 'in' takes a list",
        ),
        ('conditions = [{ field = "company", op = "in" }]', "needs a value"),
        ('conditions = [{ field = "company", value = "x" }]', "conditions.0.op: Field required"),
    ]:
        path.write_text(base + table + "\n")
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(path)
    good = f"""when_out_of_scope = "leave"
conditions = [{{ field = "employment_type", op = "not_equals", value = "{EXTERNAL}" }},
              {{ field = "organisation_path", op = "starts_with", value = "Stockholm/" }}]
"""
    path.write_text(base + good)
    load_config(path)
    scope = Connection.objects.get(key="ad").settings["scope"]
    assert scope["when_out_of_scope"] == "leave"
    assert scope["conditions"][1] == {
        "field": "organisation_path",
        "op": "starts_with",
        "value": "Stockholm/",
    }


@pytest.mark.django_db
def test_the_console_step_edits_the_companies_and_keeps_the_conditions() -> None:
    source = Source.objects.create(key="flex", kind="flexhrm", settings={})
    connection = Connection(
        key="ad",
        source=source,
        kind="active_directory",
        settings={"scope": {"conditions": SCOPE_CONDITIONS[:1], "when_out_of_scope": "leave"}},
    )
    apply_step(connection, 4, {"companies": ["Acme Norden AB"]})
    assert connection.settings["scope"] == {
        "conditions": SCOPE_CONDITIONS[:1],
        "when_out_of_scope": "leave",
        "companies": ["Acme Norden AB"],
    }
    apply_step(connection, 4, {"companies": []})
    assert "companies" not in connection.settings["scope"]
