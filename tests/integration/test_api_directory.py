"""The REST API against a real directory: a connection configured through the API on a throwaway
Samba AD domain, tested, simulated, activated and run; a person provisioned now; a held run
approved through the API and applied exactly as held."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from tests.integration.api_data import client_for, make_users

from hrsync.app.imports.source_import import import_source
from hrsync.app.models import Person, Source
from hrsync.app.security.secrets import encrypt
from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

pytestmark = [pytest.mark.django_db, pytest.mark.samba, pytest.mark.usefixtures("fernet_key")]

PEOPLE = 6


@pytest.fixture
def flex() -> Iterator[FlexSimulator]:
    sim = FlexSimulator(
        generate_dataset(count=PEOPLE, seed=31), credentials=Credentials("acme", "api", "pw")
    )
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def directory(samba_dc: SambaDC, admin_directory: DirectoryClient) -> Iterator[dict[str, Any]]:
    """Target settings (password apart) for a base OU of this test's own, removed afterwards."""
    base = f"OU=api{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    yield {
        "url": samba_dc.url,
        "ca_file": str(samba_dc.ca_file),
        "bind_dn": samba_dc.bind_dn,
        "base_dn": base,
        "users_ou": "OU=People",
        "upn_suffix": samba_dc.realm.lower(),
    }
    admin_directory.delete(base, with_subtree=True)


def send(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        response = client.get(path)
    else:
        data = json.dumps(body or {})
        response = getattr(client, method)(path, data=data, content_type="application/json")
    assert response.status_code < 300, response.content
    return response.json() if response.content else None


def configure(
    admin: Client, directory: dict[str, Any], password: str, **safety: dict[str, float]
) -> None:
    """Steps 2 to 4 of the connection `ad`."""
    target = {"settings": directory, "password": password}
    send(admin, "put", "/api/connections/ad/steps/target", target)
    send(admin, "put", "/api/connections/ad/steps/mapping")
    send(admin, "put", "/api/connections/ad/steps/scope", {"safety": safety})


def test_a_connection_is_set_up_run_and_approved_through_the_api(
    flex: FlexSimulator,
    directory: dict[str, Any],
    samba_dc: SambaDC,
    admin_directory: DirectoryClient,
) -> None:
    Source.objects.create(
        key="flex",
        kind="flexhrm",
        settings={"url": flex.url, "instance": "acme", "username": "api"},
        secret=encrypt("pw"),
    )
    import_source("flex")
    users = make_users()
    admin, operator = client_for(users["admin"]), client_for(users["operator"])

    send(admin, "post", "/api/connections", {"key": "ad", "source": "flex", "name": "AD"})
    wrong = send(
        admin,
        "post",
        "/api/connections/ad/steps/target/test",
        {"settings": directory, "password": "nope"},
    )
    assert wrong["ok"] is False
    configure(admin, directory, samba_dc.admin_password)
    assert send(operator, "post", "/api/connections/ad/test")["ok"] is True
    simulated = send(operator, "post", "/api/connections/ad/simulate")
    assert simulated["plan"]["counts"]["create"] == PEOPLE and not simulated["plan"]["is_held"]
    send(admin, "post", "/api/connections/ad/activate", {"schedule": "on-change"})
    ran = send(operator, "post", "/api/connections/ad/run")
    assert (ran["status"], ran["applied"]) == ("succeeded", PEOPLE)

    person = Person.objects.order_by("pk").first()
    assert person is not None
    links = send(admin, "get", f"/api/people/{person.pk}")["links"]
    assert links[0]["ref"].endswith(f"OU=People,{directory['base_dn']}")
    provisioned = send(operator, "post", f"/api/people/{person.pk}/provision")
    assert [run["status"] for run in provisioned["runs"]] == ["succeeded"]

    # Everyone moves to another OU with a move limit of 1: the gate holds the run.
    configure(admin, directory | {"users_ou": "OU=Moved"}, "", move={"count": 1})
    send(operator, "post", "/api/connections/ad/simulate")
    send(admin, "post", "/api/connections/ad/activate")
    held = send(operator, "post", "/api/connections/ad/run")
    assert held["status"] == "held"
    plan = send(operator, "get", f"/api/runs/{held['id']}/plan")
    assert plan["is_held"] and plan["counts"]["move"] == PEOPLE
    applied = send(operator, "post", f"/api/runs/{held['id']}/approve")
    assert applied["status"] == "succeeded"
    assert applied["applied"] == sum(plan["counts"].values())  # exactly the plan that was held
    assert send(operator, "get", f"/api/runs/{held['id']}")["error"].startswith("approved by")
    moved = admin_directory.search(f"OU=Moved,{directory['base_dn']}", "(objectClass=user)", ["cn"])
    assert len(list(moved)) == PEOPLE
