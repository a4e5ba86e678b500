"""A Microsoft 365 tenant set up in the console as an admin does it, against the Graph simulator
over loopback: the kind chosen when the connection is made, step 2's form (the client secret
write-only: stored encrypted, never rendered back), "Test connection" naming the tenant's
organisation and the users found, a wrong secret refused in Entra's words, a hybrid destination
refused as not built, and a simulation and a run that create the source's people."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests.integration import test_console_scim as scim

from hrsync.app.models import Connection, Source
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.security import secrets
from hrsync.simulators.graph import App, GraphSimulator

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]

source = scim.source  # the fixture: a Flex HRM source with three people
admin, signed_in = scim.admin, scim.signed_in
APP = App(
    "fabrikam.onmicrosoft.com",
    "00000000-0000-0000-0000-0000000c0501",
    "console-secret",
    organization="Fabrikam Zorg BV",
)


@pytest.fixture
def graph() -> Iterator[GraphSimulator]:
    with GraphSimulator(APP) as sim:
        yield sim


def tenant_form(sim: GraphSimulator, **overrides: str) -> dict[str, str]:
    return {"destination": "cloud", "tenant_id": APP.tenant, "client_id": APP.client_id,
            "password": APP.client_secret, "upn_suffix": "fabrikam.example",
            "usage_location": "nl", "login_url": sim.login_url, "graph_url": sim.graph_url,
            "tls_verify": "on"} | overrides  # fmt: skip


def new_connection(client: Client) -> None:
    made = client.post(
        "/connections/new/",
        {"key": "m365", "name": "Fabrikam", "source": "flex", "kind": "microsoft365",
         "time_zone": "Europe/Amsterdam"},
    )  # fmt: skip
    assert made["Location"] == "/connections/m365/step/2/"


def test_a_tenant_is_set_up_tested_simulated_and_run(
    source: Source, graph: GraphSimulator, tmp_path: Path, settings: Any
) -> None:
    settings.HOME = tmp_path / "home"  # where the connection keeps its users/delta state
    client = admin()
    assert "Microsoft 365" in client.get("/connections/new/").content.decode()
    new_connection(client)
    step2 = client.get("/connections/m365/step/2/").content.decode()
    assert "Client secret" in step2 and "UPN suffix" in step2 and "Hybrid" in step2
    assert "Domain controller" not in step2 and "File format" not in step2

    graph.store.create(
        {"accountEnabled": True, "displayName": "Admin", "mailNickname": "admin",
         "userPrincipalName": "admin@fabrikam.example", "passwordProfile": {"password": "x"}}
    )  # fmt: skip
    tested = client.post("/connections/m365/step/2/", tenant_form(graph) | {"action": "test"})
    page = tested.content.decode()
    assert "Fabrikam Zorg BV" in page and "lists 1 users" in page
    wrong = client.post(
        "/connections/m365/step/2/", tenant_form(graph, password="bad") | {"action": "test"}
    )
    assert "AADSTS7000215" in wrong.content.decode()
    hybrid = client.post(
        "/connections/m365/step/2/", tenant_form(graph, destination="hybrid") | {"action": "save"}
    )
    assert hybrid.status_code == 400 and "hybrid" in hybrid.content.decode()
    assert "tenant_id" not in Connection.objects.get(key="m365").settings
    saved = client.post("/connections/m365/step/2/", tenant_form(graph) | {"action": "save"})
    assert saved.status_code == 302, saved.content.decode()

    connection = Connection.objects.get(key="m365")
    assert connection.kind == "microsoft365"
    assert connection.settings["usage_location"] == "NL"
    assert "client_secret" not in connection.settings and "password" not in connection.settings
    assert secrets.decrypt(connection.secret) == APP.client_secret
    again = client.get("/connections/m365/step/2/").content.decode()
    assert APP.client_secret not in again and "A client secret is stored" in again
    kept = client.post(
        "/connections/m365/step/2/", tenant_form(graph, password="") | {"action": "save"}
    )
    assert kept.status_code == 302  # an empty secret keeps the stored one
    connection.refresh_from_db()
    assert secrets.decrypt(connection.secret) == APP.client_secret

    mapping = client.get("/connections/m365/step/3/").content.decode()
    assert "userPrincipalName" in mapping and "sAMAccountName" not in mapping
    client.post("/connections/m365/step/3/")
    client.post("/connections/m365/step/4/", {"companies": ""} | scim._thresholds())
    client.post("/connections/m365/simulate/")
    run = connection.runs.get()
    assert run.status == "simulated" and run.plan_counts["create"] == 3, run.plan_counts
    assert len(graph.store.users) == 1, "a simulation writes nothing"

    run_connection("m365")
    made = [
        u for u in graph.store.all_users() if u["userPrincipalName"] != "admin@fabrikam.example"
    ]
    assert sorted(u["surname"] for u in made) == ["Lund1", "Lund2", "Lund3"]
    assert all(u["usageLocation"] == "NL" for u in made)
    kept = tmp_path / "home" / "connections" / f"m365-{connection.pk}" / "graph-delta.json"
    assert kept.exists()  # the next run reads only what changed


def test_an_operator_sees_the_tenant_form_but_cannot_change_it(
    source: Source, graph: GraphSimulator
) -> None:
    new_connection(admin())
    operator = signed_in("operator")
    page = operator.get("/connections/m365/step/2/").content.decode()
    assert "Client secret" in page and "<fieldset disabled" in page
    refused = operator.post("/connections/m365/step/2/", tenant_form(graph) | {"action": "save"})
    assert refused.status_code == 403
    assert "tenant_id" not in Connection.objects.get(key="m365").settings
