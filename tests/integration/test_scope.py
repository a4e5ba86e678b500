"""A connection's company scope: only the people of those companies are provisioned."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from hrsync.app.imports import import_source
from hrsync.app.models import Connection, Source
from hrsync.app.runs import run_connection
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
    monkeypatch.setenv("FLEX_PW", "pw")
    monkeypatch.setenv("AD_PW", samba_dc.admin_password)
    base = f"OU=scope{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    source = Source.objects.create(
        key="flex",
        kind="flexhrm",
        settings={"url": sim.url, "instance": "acme", "username": "api", "password_env": "FLEX_PW"},
    )
    company = "Acme Sverige AB"
    Connection.objects.create(
        key="ad",
        source=source,
        kind="active_directory",
        settings={
            "url": samba_dc.url,
            "ca_file": str(samba_dc.ca_file),
            "bind_dn": samba_dc.bind_dn,
            "password_env": "AD_PW",
            "base_dn": base,
            "users_ou": f"OU=People,{base}",
            "upn_suffix": "example.test",
            "scope": {"companies": [company]},
        },
    )
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
