"""A Flexwhere CSV connection set up in the console as an admin does it: the kind chosen at
creation, step 2's file form (format, contents, a folder), "Test connection", the file's columns
in step 3, and a simulation whose diff names the columns; then a real run delivers the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests.integration import test_console_scim as scim

from hrsync.app.models import Connection, Source
from hrsync.app.runs.connection_run import run_connection
from hrsync.testing.sshd import SshServer

pytestmark = pytest.mark.django_db
source = scim.source  # the fixture: a Flex HRM source with three people
admin, signed_in = scim.admin, scim.signed_in


def file_form(folder: Path, **overrides: str) -> dict[str, str]:
    return {"format": "flexwhere", "contents": "full", "delivery": "folder",
            "folder": str(folder), "host": "", "port": "", "username": "", "key_file": "",
            "password": "", "host_key_sha256": "", "remote_dir": "", "receipt": "on",
            } | overrides  # fmt: skip


def new_connection(client: Client) -> None:
    made = client.post(
        "/connections/new/",
        {"key": "fw", "name": "Flexwhere", "source": "flex", "kind": "csv",
         "time_zone": "Europe/Stockholm"},
    )  # fmt: skip
    assert made["Location"] == "/connections/fw/step/2/"


def test_a_flexwhere_file_is_set_up_tested_simulated_and_delivered(
    source: Source,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.HOME = tmp_path / "home"  # where hrsync keeps its copy of the delivered file
    client = admin()
    assert "Flexwhere (CSV)" in client.get("/connections/new/").content.decode()
    new_connection(client)
    step2 = client.get("/connections/fw/step/2/").content.decode()
    assert "File format" in step2 and "Server key fingerprint" in step2
    assert "Domain controller" not in step2

    missing = client.post(
        "/connections/fw/step/2/", file_form(tmp_path / "nowhere") | {"action": "test"}
    )
    assert "does not exist" in missing.content.decode()
    out = tmp_path / "drop"
    out.mkdir()
    tested = client.post("/connections/fw/step/2/", file_form(out) | {"action": "test"})
    assert "flexwhere - users.csv" in tested.content.decode()
    saved = client.post("/connections/fw/step/2/", file_form(out) | {"action": "save"})
    assert saved.status_code == 302, saved.content.decode()  # no secret for a folder
    connection = Connection.objects.get(key="fw")
    assert connection.settings["folder"] == str(out) and connection.settings["receipt"] is True
    assert "host" not in connection.settings and not connection.secret

    mapping = client.get("/connections/fw/step/3/").content.decode()
    assert "CSV_USERNAME" in mapping and "CSV_DISPLAYNAME" in mapping
    assert "sAMAccountName" not in mapping and "OU" not in mapping.split("<main", 1)[-1]
    client.post("/connections/fw/step/3/")
    client.post("/connections/fw/step/4/", {"companies": ""} | scim._thresholds())
    client.post("/connections/fw/simulate/")
    run = connection.runs.get()
    assert run.status == "simulated" and run.plan_counts["create"] == 3
    plan = client.get(f"/connections/fw/plan/{run.pk}/").content.decode()
    assert "CSV_EMAIL" in plan and "greta.lund1@example.test" in plan
    assert not list(out.iterdir()), "a simulation delivers nothing"
    schedule = client.get("/connections/fw/step/6/").content.decode()
    assert 'value="0 2 * * *"' in schedule  # the seed's "every 24 hours", proposed

    run_connection("fw")
    raw = (out / "flexwhere - users.csv").read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw, newline=""), delimiter=";"))
    assert sorted(r["CSV_SURNAME"] for r in rows) == ["Lund1", "Lund2", "Lund3"]
    assert (out / "flexwhere - users.csv.sha256").exists()
    kept = tmp_path / "home" / "connections" / f"fw-{connection.pk}" / "rows.json"
    assert kept.exists()


def test_an_operator_sees_the_file_form_but_cannot_change_it(
    source: Source,
    tmp_path: Path,
) -> None:
    new_connection(admin())
    operator = signed_in("operator")
    page = operator.get("/connections/fw/step/2/").content.decode()
    assert "File format" in page and "<fieldset disabled" in page
    refused = operator.post("/connections/fw/step/2/", file_form(tmp_path) | {"action": "save"})
    assert refused.status_code == 403
    assert "folder" not in Connection.objects.get(key="fw").settings


def test_test_connection_shows_an_unpinned_sftp_servers_key_to_confirm(
    source: Source,
    tmp_path: Path,
    sshd: SshServer,
) -> None:
    client = admin()
    new_connection(client)
    form = file_form(
        tmp_path,
        delivery="sftp",
        host=sshd.host,
        port=str(sshd.port),
        username=sshd.user,
        key_file=str(sshd.client_key),
        remote_dir=".",
    )
    tested = client.post("/connections/fw/step/2/", form | {"action": "test"}).content.decode()
    assert sshd.host_key_sha256 in tested and "Confirm it with the server" in tested
    pinned = form | {"host_key_sha256": sshd.host_key_sha256, "action": "test"}
    assert sshd.host_key_sha256 in client.post("/connections/fw/step/2/", pinned).content.decode()
