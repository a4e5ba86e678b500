"""A SCIM app set up in the console as an admin does it, against a real scim2-server: the kind
chosen when the connection is made, step 2's SCIM form (the token write-only: stored encrypted,
never rendered back), "Test connection" showing what discovery found, "Check compliance" (admin,
CSRF, audited, write checks only when asked), the preset's attributes in step 3, and a
simulation whose diff names the app's attributes."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from hrsync.app.models import AuditEvent, Connection, Person, Source
from hrsync.app.security import secrets
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment
from hrsync.domain.person import Person as DomainPerson
from hrsync.testing.scim import ScimServer

pytestmark = pytest.mark.django_db


def admin() -> Client:
    return signed_in("admin")


def signed_in(role: str, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    user, _ = User.objects.get_or_create(username=f"{role}-{int(enforce_csrf)}")
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


def scim_connection(client: Client, server: ScimServer, **overrides: str) -> dict[str, str]:
    """A SCIM connection made and its step 2 saved; the form it was saved with."""
    client.post(
        "/connections/new/",
        {"key": "wt", "source": "flex", "kind": "scim", "time_zone": "Europe/Stockholm"},
    )
    form = {"url": server.url, "profile": "generic", "auth": "bearer", "username": "",
            "password": server.token, "tls_verify": "on", "ca_file": "", "attributes": "",
            "custom_fields": ""} | overrides  # fmt: skip
    saved = client.post("/connections/wt/step/2/", form | {"action": "save"})
    assert saved.status_code == 302, saved.content.decode()
    return form


@pytest.fixture
def source() -> Source:
    flex = Source.objects.create(key="flex", kind="flexhrm", settings={})
    for number in (1, 2, 3):
        person = DomainPerson(
            person_id=PersonId(f"p{number}"),
            employee_number=EmployeeNumber(str(1000 + number)),
            given_name="Greta",
            family_name=f"Lund{number}",
            employment=Employment("1", "Acme AB", "Ekonom", start_date=date(2020, 1, 1)),
            email=f"greta.lund{number}@example.test",
        )
        Person.objects.create(
            source=flex,
            person_id=person.person_id,
            employee_number=person.employee_number,
            display_name=person.display_name,
            fields=person.fields(),
            content_hash=person.content_hash(),
        )
    return flex


def test_a_scim_app_is_set_up_tested_checked_and_simulated(
    source: Source, scim2_server: ScimServer
) -> None:
    client = admin()
    new = client.get("/connections/new/").content.decode()
    assert "Winningtemp (SCIM)" not in new and "SCIM app" in new  # the kinds, by their labels
    made = client.post(
        "/connections/new/",
        {"key": "wt", "name": "Winningtemp", "source": "flex", "kind": "scim",
         "time_zone": "Europe/Stockholm"},
    )  # fmt: skip
    assert made["Location"] == "/connections/wt/step/2/"
    step2 = client.get("/connections/wt/step/2/").content.decode()
    assert "SCIM base URL" in step2 and "Domain controller" not in step2

    form = {
        "url": scim2_server.url, "profile": "winningtemp", "auth": "bearer", "username": "",
        "password": scim2_server.token, "tls_verify": "on", "ca_file": "",
        "attributes": "", "custom_fields": "costCenter\n",
    }  # fmt: skip
    tested = client.post("/connections/wt/step/2/", form | {"action": "test"}).content.decode()
    assert "PATCH yes" in tested and "bulk yes" in tested
    assert "urn:ietf:params:scim:schemas:extension:winningtemp:2.0:User" in tested
    wrong = client.post("/connections/wt/step/2/", form | {"action": "test", "password": "bad"})
    assert "refused" in wrong.content.decode()
    saved = client.post("/connections/wt/step/2/", form | {"action": "save"})
    assert saved.status_code == 302

    connection = Connection.objects.get(key="wt")
    assert connection.kind == "scim"
    assert connection.settings["custom_fields"] == ["costCenter"]
    assert "token" not in connection.settings and "password" not in connection.settings
    assert secrets.decrypt(connection.secret) == scim2_server.token
    again = client.get("/connections/wt/step/2/").content.decode()
    assert scim2_server.token not in again and "A token (or password) is stored" in again
    kept = client.post("/connections/wt/step/2/", form | {"password": "", "action": "save"})
    assert kept.status_code == 302  # an empty secret keeps the stored one
    connection.refresh_from_db()
    assert secrets.decrypt(connection.secret) == scim2_server.token

    report = client.post("/connections/wt/compliance/", HTTP_HX_REQUEST="true").content.decode()
    assert "passed" in report and "<table" in report
    assert AuditEvent.objects.filter(action="connection.compliance_checked").exists()

    mapping = client.get("/connections/wt/step/3/").content.decode()
    assert "name.givenName" in mapping and "userName" in mapping and "sAMAccountName" not in mapping
    assert "Keep a group for each organisation unit" in mapping and "Groups OU" not in mapping
    assert '<datalist id="target-attributes"><option value="userName">' in mapping
    client.post("/connections/wt/step/3/")
    client.post("/connections/wt/step/4/", {"companies": ""} | _thresholds())
    client.post("/connections/wt/simulate/")
    run = connection.runs.get()
    assert run.status == "simulated" and run.plan_counts["create"] == 3
    plan = client.get(f"/connections/wt/plan/{run.pk}/").content.decode()
    assert "Work e-mail" in plan and "greta.lund1@example.test" in plan
    assert "employee number or SCIM id" in plan  # the search names the app's reference
    recorded = [json.dumps([event.before, event.after]) for event in AuditEvent.objects.all()]
    assert recorded and not any(scim2_server.token in event for event in recorded)


def test_plain_http_to_an_app_elsewhere_is_refused_with_the_reason(source: Source) -> None:
    client = admin()
    client.post(
        "/connections/new/",
        {"key": "wt", "source": "flex", "kind": "scim", "time_zone": "Europe/Stockholm"},
    )
    form = {"url": "http://app.example/scim", "profile": "generic", "auth": "bearer",
            "password": "t", "action": "save"}  # fmt: skip
    refused = client.post("/connections/wt/step/2/", form)
    assert refused.status_code == 400 and "must use https://" in refused.content.decode()


def test_certificate_checks_off_is_stored_per_connection_and_warned_of(
    source: Source, scim2_server: ScimServer
) -> None:
    client = admin()
    form = scim_connection(client, scim2_server, tls_verify="")
    connection = Connection.objects.get(key="wt")
    assert connection.settings["tls_verify"] is False
    page = client.get("/connections/wt/step/2/").content.decode()
    assert "Certificate verification is off for this connection" in page
    back_on = client.post("/connections/wt/step/2/", form | {"tls_verify": "on", "action": "save"})
    assert back_on.status_code == 302
    page = client.get("/connections/wt/step/2/").content.decode()
    assert "Certificate verification is off" not in page


def test_basic_authentication_keeps_the_user_name_and_writes_the_password_only(
    source: Source, scim2_server: ScimServer
) -> None:
    client = admin()
    scim_connection(client, scim2_server, auth="basic", username="hrsync", password="s3cret-pw")
    connection = Connection.objects.get(key="wt")
    assert connection.settings["auth"] == "basic" and connection.settings["username"] == "hrsync"
    assert secrets.decrypt(connection.secret) == "s3cret-pw"
    page = client.get("/connections/wt/step/2/").content.decode()
    assert 'value="hrsync"' in page and "s3cret-pw" not in page


def test_compliance_with_write_checks_is_asked_for_and_audited(
    source: Source, scim2_server: ScimServer
) -> None:
    client = admin()
    scim_connection(client, scim2_server)
    page = client.get("/connections/wt/step/2/").content.decode()
    assert "Check compliance" in page and 'name="with_writes"' in page
    hx = {"HTTP_HX_REQUEST": "true"}
    read_only = client.post("/connections/wt/compliance/", **hx).content.decode()
    written = client.post("/connections/wt/compliance/", {"with_writes": "1"}, **hx)
    assert written.status_code == 200
    assert written.content.decode().count("<tr>") > read_only.count("<tr>")  # the CRUD checks
    events = AuditEvent.objects.filter(action="connection.compliance_checked").order_by("pk")
    assert [event.after["with_writes"] for event in events] == [False, True]
    full = client.post("/connections/wt/compliance/").content.decode()  # without htmx: step 2
    assert "SCIM base URL" in full and "passed" in full


def test_compliance_is_for_admins_with_a_csrf_token_only(
    source: Source, scim2_server: ScimServer
) -> None:
    scim_connection(admin(), scim2_server)
    assert signed_in("viewer").post("/connections/wt/compliance/").status_code == 403
    assert signed_in("operator").post("/connections/wt/compliance/").status_code == 403
    assert signed_in("admin").get("/connections/wt/compliance/").status_code == 405
    forged = signed_in("admin", enforce_csrf=True).post("/connections/wt/compliance/")
    assert forged.status_code == 403
    assert not AuditEvent.objects.filter(action="connection.compliance_checked").exists()


def test_an_active_directory_connection_has_no_compliance_checks(source: Source) -> None:
    client = admin()
    client.post(
        "/connections/new/",
        {"key": "ad", "source": "flex", "kind": "active_directory", "time_zone": "UTC"},
    )
    page = client.get("/connections/ad/step/2/").content.decode()
    assert "Domain controller URL" in page and "Check compliance" not in page
    refused = client.post("/connections/ad/compliance/", follow=True).content.decode()
    assert "Compliance was not checked: Active Directory has no compliance checks" in refused
    detail = client.get("/connections/ad/").content.decode()
    assert "Base DN" in detail and "Users OU" in detail and "SCIM URL" not in detail
    client.post("/connections/ad/step/2/", _directory_form())
    step3 = client.get("/connections/ad/step/3/").content.decode()
    assert "OU placement rule" in step3 and "Leavers OU" in step3 and "sAMAccountName" in step3


def test_the_detail_page_says_where_the_accounts_live_in_the_profile_s_words(
    source: Source, scim2_server: ScimServer
) -> None:
    client = admin()
    scim_connection(client, scim2_server)
    page = client.get("/connections/wt/").content.decode()
    assert "SCIM URL" in page and scim2_server.url.rstrip("/") in page
    assert "Base DN" not in page and "Users OU" not in page


def _directory_form() -> dict[str, str]:
    return {"url": "ldaps://dc.example.test", "bind_dn": "CN=svc,DC=example,DC=test",
            "password": "pw", "base_dn": "DC=example,DC=test",
            "users_ou": "OU=People,DC=example,DC=test", "upn_suffix": "example.test",
            "ca_file": "", "action": "save"}  # fmt: skip


def _thresholds() -> dict[str, int]:
    kinds = ("disable", "delete", "move", "rename", "wipe", "retire_group", "remove_members")
    return {f"{kind}_{part}": 10 for kind in kinds for part in ("percent", "count")}
