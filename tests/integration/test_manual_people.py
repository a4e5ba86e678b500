"""Manual people: admins add, edit and end a person of the built-in source `manual` in the API
and the console; each save goes through the import's pipeline (change log, ticket, triggers,
on-change connections), and a connection on the manual source provisions them (a CSV file
delivered to a folder; Samba AD). Viewers and operators are refused; imported people are not
edited."""

from __future__ import annotations

import csv
import json
import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from tests.integration.api_data import Dataset, client_for

from hrsync.app.config_errors import ConfigError
from hrsync.app.config_file import load_config
from hrsync.app.imports.source_import import import_source
from hrsync.app.jobs.scheduler import tick
from hrsync.app.jobs.work import run_job
from hrsync.app.models import (
    AuditEvent,
    Connection,
    Import,
    JobRun,
    Person,
    PersonnelChange,
    Source,
    Ticket,
    TicketEntry,
    Trigger,
)
from hrsync.app.security.secrets import encrypt
from hrsync.app.sources.manual import MANUAL_KEY, MANUAL_KIND
from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.domain.errors import SourceError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fernet_key")]

CONSULTANT: dict[str, Any] = {
    "given_name": "Kim",
    "family_name": "Konsult",
    "employee_number": "K-17",
    "email": "kim.konsult@example.org",
    "phone": "+46 8 123 45",
    "title": "Consultant",
    "company": "Acme Sverige AB",
    "start_date": (date.today() - timedelta(days=60)).isoformat(),
    "office": "Stockholm",
    "department": "Finance",
    "employment_type": "Konsult",
}
CONSULTANT_MAIL = b"kim.konsult@example.org"
ACCOUNT_DISABLED = 0x2
"""userAccountControl's ACCOUNTDISABLE flag."""


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def patch(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def add(admin: Client, **changes: Any) -> dict[str, Any]:
    answer = post(admin, "/api/people", CONSULTANT | changes)
    assert answer.status_code == 201, answer.content
    return dict(answer.json())


def signed_in(user: User, **options: Any) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def csrf_token(page: Any) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert found, "the page carries a CSRF token"
    return found[1]


# The API.


def test_an_admin_adds_a_manual_person_recorded_as_a_joiner_with_a_ticket(
    users: dict[str, User],
) -> None:
    Trigger.objects.create(
        name="welcome",
        event="ticket.created",
        conditions=[{"field": "created", "op": "equals", "value": True}],
        actions=[{"do": "comment", "text": "Welcome aboard."}],
    )
    saved = add(client_for(users["admin"]))

    person = Person.objects.select_related("source").get(pk=saved["person"]["id"])
    assert (person.source.key, person.source.kind) == (MANUAL_KEY, MANUAL_KIND)
    assert person.person_id.startswith("manual-")
    assert uuid.UUID(person.person_id.removeprefix("manual-")).version == 4
    assert saved["person"]["is_manual"] is True and saved["change"] == "joiner"
    assert person.fields["org.Office"] == "Stockholm" and person.fields["is_external"] == "true"
    change = PersonnelChange.objects.get(person=person)
    assert (change.kind, change.is_new) == ("joiner", True)
    assert change.changed["email"] == [None, "kim.konsult@example.org"]
    ticket = Ticket.objects.get(person=person)
    assert ticket.pk == saved["ticket"] and ticket.kind == "joiner"
    assert ticket.title == "Joiner: Kim Konsult (K-17)" and ticket.source == person.source
    assert TicketEntry.objects.filter(ticket=ticket, text="Welcome aboard.").exists()
    event = AuditEvent.objects.get(action="person.added")
    assert (event.actor, event.person_id) == ("admin", person.person_id)
    assert event.after["fields"]["employee_number"] == "K-17"


def test_a_patch_records_the_changed_field_and_comments_the_open_ticket(
    users: dict[str, User],
) -> None:
    admin = client_for(users["admin"])
    saved = add(admin)
    path = f"/api/people/{saved['person']['id']}"

    answer = patch(admin, path, {"mobile": "070-123 45 67"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["change"] == "update"
    assert answer.json()["values"]["title"] == "Consultant", "fields not sent keep their values"
    latest = PersonnelChange.objects.order_by("-pk").first()
    assert latest is not None and latest.changed == {"mobile": [None, "070-123 45 67"]}
    assert Ticket.objects.filter(person_id=saved["person"]["id"]).count() == 1
    comment = TicketEntry.objects.get(ticket_id=saved["ticket"])
    assert "Mobile" in comment.text and "070-123 45 67" in comment.text
    assert AuditEvent.objects.filter(action="person.edited", actor="admin").count() == 1

    again = patch(admin, path, {"mobile": "070-123 45 67"})
    assert again.status_code == 200 and again.json()["change"] is None
    assert PersonnelChange.objects.count() == 2, "saving the same values records nothing"
    assert Import.objects.filter(source__key=MANUAL_KEY).count() == 2


def test_an_end_date_makes_a_manual_person_a_leaver(users: dict[str, User]) -> None:
    admin = client_for(users["admin"])
    saved = add(admin)
    last_day = (date.today() - timedelta(days=1)).isoformat()
    answer = patch(admin, f"/api/people/{saved['person']['id']}", {"end_date": last_day})
    assert answer.status_code == 200, answer.content
    assert answer.json()["change"] == "leaver"
    person = Person.objects.get(pk=saved["person"]["id"])
    assert person.fields["end_date"] == last_day
    leaver = PersonnelChange.objects.get(person=person, kind="leaver")
    assert leaver.changed == {"end_date": [None, last_day]}
    assert AuditEvent.objects.filter(action="person.ended", person_id=person.person_id).exists()
    back = patch(admin, f"/api/people/{saved['person']['id']}", {"end_date": None})
    assert back.json()["change"] == "rehire", "an ended employment cleared again is a rehire"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_may_not_add_or_edit(users: dict[str, User], role: str) -> None:
    saved = add(client_for(users["admin"]))
    client = client_for(users[role])
    refused = post(client, "/api/people", CONSULTANT | {"employee_number": "K-18"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    edit = patch(client, f"/api/people/{saved['person']['id']}", {"title": "Boss"})
    assert edit.status_code == 403
    assert Person.objects.count() == 1
    assert Person.objects.get().fields["title"] == "Consultant"


def test_an_imported_person_is_not_edited_by_hand(users: dict[str, User], data: Dataset) -> None:
    answer = patch(client_for(users["admin"]), f"/api/people/{data.person.pk}", {"title": "CEO"})
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "not_manual" and "imported from the source hr" in error["message"]
    data.person.refresh_from_db()
    assert data.person.fields["title"] == "Controller"
    assert not PersonnelChange.objects.filter(person=data.person).exclude(kind="joiner").exists()


def test_validation_errors_name_each_field(users: dict[str, User]) -> None:
    admin = client_for(users["admin"])
    add(admin)
    answer = post(
        admin,
        "/api/people",
        {
            "given_name": "Bo",
            "family_name": "  ",
            "employee_number": "K-17",
            "email": "bo@",
            "start_date": "2026-05-01",
            "end_date": "2026-04-30",
            "manager": "nobody-1",
            "title": "x" * 257,
        },
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_values"
    details = error["details"]
    assert details == {
        "family_name": "is required",
        "employee_number": "K-17 is already the number of Kim Konsult",
        "email": "'bo@' is not a valid e-mail address",
        "end_date": "the employment ends (2026-04-30) before it starts (2026-05-01)",
        "manager": "nobody has the person id or employee number 'nobody-1'",
        "title": "longer than 256 characters",
    }
    bad_day = post(
        admin, "/api/people", CONSULTANT | {"employee_number": "K-2", "end_date": "31/3"}
    )
    assert bad_day.json()["error"]["details"] == {"end_date": "'31/3' is not a date (YYYY-MM-DD)"}
    assert Person.objects.count() == 1 and PersonnelChange.objects.count() == 1


def test_the_manager_is_another_person_by_employee_number_or_person_id(
    users: dict[str, User], data: Dataset
) -> None:
    admin = client_for(users["admin"])
    saved = add(admin, manager="1001")
    assert saved["values"]["manager"] == "p-1001"
    ticket = Ticket.objects.get(pk=saved["ticket"])
    assert ticket.changed["manager_id"] == [None, "p-1001"]
    own = patch(admin, f"/api/people/{saved['person']['id']}", {"manager": "K-17"})
    assert own.json()["error"]["details"] == {"manager": "a person cannot be their own manager"}
    cleared = patch(admin, f"/api/people/{saved['person']['id']}", {"manager": None})
    assert cleared.json()["values"]["manager"] is None


def test_the_manual_source_is_never_imported_and_has_no_settings(
    users: dict[str, User], tmp_path: Path
) -> None:
    admin = client_for(users["admin"])
    add(admin)
    refused = admin.post("/api/sources/manual/import", data="{}", content_type="application/json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_imported"
    tested = admin.post("/api/sources/manual/test")
    assert tested.status_code == 200 and tested.json()["ok"] is False
    assert "no connector" in tested.json()["message"]
    assert patch(admin, "/api/sources/manual", {"schedule": "* * * * *"}).status_code == 409
    assert admin.get("/api/sources/manual/companies").status_code == 409
    body = {"key": "manual", "settings": {}}
    assert post(admin, "/api/sources", body).json()["error"]["code"] == "reserved"
    with pytest.raises(SourceError, match="no connector"):
        import_source(MANUAL_KEY)
    config = tmp_path / "hrsync.toml"
    config.write_text('[sources.manual]\ntype = "flexhrm"\nurl = "https://flex.example/api/"\n')
    with pytest.raises(ConfigError, match="reserved"):
        load_config(config)
    assert Source.objects.get(key=MANUAL_KEY).kind == MANUAL_KIND
    hour_ago = timezone.now() - timedelta(hours=1)
    Source.objects.filter(key=MANUAL_KEY).update(schedule="* * * * *", created=hour_ago)
    assert tick(timezone.now()) == [], "the scheduler never imports the manual source"
    listed = admin.get("/api/sources").json()["items"]
    assert [s["label"] for s in listed if s["key"] == MANUAL_KEY] == ["Manual"]
    assert admin.get("/api/sources/manual").json()["last_import"]["status"] == "succeeded"


# The console.


def test_an_admin_adds_a_person_in_the_console_and_sees_the_badge(users: dict[str, User]) -> None:
    admin = signed_in(users["admin"], enforce_csrf_checks=True)
    assert 'href="/people/new/"' in admin.get("/people/").content.decode()
    form = admin.get("/people/new/")
    assert form.status_code == 200 and 'name="employee_number"' in form.content.decode()
    without_token = admin.post("/people/new/", CONSULTANT)
    assert without_token.status_code == 403 and not Person.objects.exists()

    added = admin.post("/people/new/", CONSULTANT | {"csrfmiddlewaretoken": csrf_token(form)})
    assert added.status_code == 302
    person = Person.objects.get(employee_number="K-17")
    assert added["Location"] == f"/people/{person.pk}/"
    assert PersonnelChange.objects.get(person=person).kind == "joiner"
    assert Ticket.objects.filter(person=person, kind="joiner").exists()
    assert AuditEvent.objects.filter(action="person.added", actor=users["admin"].username)
    listed = admin.get("/people/").content.decode()
    assert re.search(r"Kim Konsult</a> <span class=\"badge manual\"[^>]*>Manual</span>", listed)
    page = admin.get(f"/people/{person.pk}/").content.decode()
    assert '<span class="badge manual"' in page and f'href="/people/{person.pk}/edit/"' in page


def test_console_field_errors_are_shown_and_nothing_is_saved(users: dict[str, User]) -> None:
    admin = signed_in(users["admin"])
    answer = admin.post("/people/new/", CONSULTANT | {"email": "kim@", "family_name": ""})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "&#x27;kim@&#x27; is not a valid e-mail address" in page
    assert 'id="id_family_name_error"' in page
    assert not Person.objects.exists()


def test_an_admin_edits_and_ends_a_person_in_the_console(users: dict[str, User]) -> None:
    saved = add(client_for(users["admin"]))
    pk = saved["person"]["id"]
    admin = signed_in(users["admin"])
    form = admin.get(f"/people/{pk}/edit/")
    assert form.status_code == 200 and 'value="Consultant"' in form.content.decode()
    edited = admin.post(f"/people/{pk}/edit/", CONSULTANT | {"title": "Lead consultant"})
    assert edited.status_code == 302
    assert PersonnelChange.objects.filter(person_id=pk, kind="mover").exists()
    last_day = (date.today() + timedelta(days=30)).isoformat()
    ended = admin.post(f"/people/{pk}/end/", {"end_date": last_day})
    assert ended.status_code == 302
    assert Person.objects.get(pk=pk).fields["end_date"] == last_day
    assert PersonnelChange.objects.filter(person_id=pk, kind="leaver").exists()
    assert AuditEvent.objects.filter(action="person.ended").count() == 1


def test_an_operator_sees_no_form_and_is_refused(users: dict[str, User]) -> None:
    saved = add(client_for(users["admin"]))
    pk = saved["person"]["id"]
    operator = signed_in(users["operator"])
    listed = operator.get("/people/").content.decode()
    assert "Manual" in listed and 'href="/people/new/"' not in listed
    page = operator.get(f"/people/{pk}/").content.decode()
    assert "/edit/" not in page and "/end/" not in page
    assert operator.get("/people/new/").status_code == 403
    assert operator.post("/people/new/", CONSULTANT | {"employee_number": "K-9"}).status_code == 403
    assert operator.post(f"/people/{pk}/edit/", CONSULTANT | {"title": "x"}).status_code == 403
    assert operator.post(f"/people/{pk}/end/", {"end_date": "2099-06-30"}).status_code == 403
    assert Person.objects.count() == 1 and PersonnelChange.objects.count() == 1


def test_the_console_refuses_to_edit_an_imported_person(
    users: dict[str, User], data: Dataset
) -> None:
    admin = signed_in(users["admin"])
    assert admin.get(f"/people/{data.person.pk}/edit/").status_code == 409
    answer = admin.post(f"/people/{data.person.pk}/end/", {"end_date": "2026-01-31"})
    assert answer.status_code == 409 and "imported from the source hr" in answer.content.decode()
    assert "end_date" not in Person.objects.get(pk=data.person.pk).fields
    page = admin.get(f"/people/{data.person.pk}/").content.decode()
    assert "/edit/" not in page and 'class="badge manual"' not in page


def test_the_manual_source_page_offers_no_import_and_no_settings(users: dict[str, User]) -> None:
    add(client_for(users["admin"]))
    admin = signed_in(users["admin"])
    page = admin.get("/sources/manual/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Import now" not in body and "Test connection" not in body and "Added by hand" in body
    refused = admin.post("/sources/manual/import/")
    assert refused.status_code == 302 and Import.objects.count() == 1, "only the save"
    assert 'href="/sources/manual/"' in admin.get("/sources/").content.decode()
    created = post(
        client_for(users["admin"]), "/api/connections", {"key": "fw", "source": "manual"}
    )
    assert created.status_code == 201, created.content
    assert admin.get("/connections/fw/").status_code == 200
    assert admin.get("/connections/").status_code == 200


# Provisioning.


def test_a_connection_on_the_manual_source_provisions_a_manual_person(
    users: dict[str, User], tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    Connection.objects.create(
        key="flexwhere",
        source=Source.objects.get(key=MANUAL_KEY),
        kind="csv",
        settings={"format": "flexwhere", "folder": str(drop), "state_dir": str(tmp_path / "s")},
        state=Connection.State.ACTIVE,
        step=7,
        schedule="on-change",
    )
    admin = client_for(users["admin"])
    saved = add(admin)

    job = JobRun.objects.get(key="flexwhere", started_by="on-change")
    run_job(job.pk, "test-worker")
    delivered = drop / "flexwhere - users.csv"
    rows = list(csv.DictReader(delivered.open(encoding="utf-8", newline=""), delimiter=";"))
    assert [(r["CSV_USERNAME"], r["CSV_FIRSTNAME"], r["CSV_DEPARTMENT"]) for r in rows] == [
        ("kim.konsult@example.org", "Kim", "Finance")
    ]
    comments = TicketEntry.objects.filter(ticket_id=saved["ticket"], connection__key="flexwhere")
    assert comments.exists(), "the run's outcome lands on the person's ticket"

    yesterday = (date.today() - timedelta(days=2)).isoformat()
    ended = patch(admin, f"/api/people/{saved['person']['id']}", {"end_date": yesterday})
    assert ended.json()["change"] == "leaver"
    run_job(JobRun.objects.filter(key="flexwhere").latest("pk").pk, "test-worker")
    rows = list(csv.DictReader(delivered.open(encoding="utf-8", newline=""), delimiter=";"))
    assert rows == [], "a leaver leaves the Flexwhere file"


@pytest.mark.samba
@pytest.mark.usefixtures("ad_target")  # the users OU, made and removed afterwards
def test_an_ad_connection_on_the_manual_source_creates_then_disables_a_consultant(
    users: dict[str, User], ad_config: ActiveDirectoryConfig
) -> None:
    Connection.objects.create(
        key="consultants",
        source=Source.objects.get(key=MANUAL_KEY),
        kind="active_directory",
        settings=ad_config.model_dump(mode="json", exclude={"password"}),
        secret=encrypt(ad_config.password.get_secret_value()),
        state=Connection.State.ACTIVE,
        step=7,
    )
    saved = add(client_for(users["admin"]))
    person_id = saved["person"]["person_id"]
    operator = client_for(users["operator"])
    provision = f"/api/people/{saved['person']['id']}/provision"

    first = post(operator, provision, {"connection": "consultants"}).json()["runs"][0]
    assert first["status"] == "succeeded", first
    directory = DirectoryClient(ad_config)
    try:
        wanted = ["title", "mail", "userAccountControl"]
        found = list(
            directory.search(ad_config.users_ou_dn, f"(employeeNumber={person_id})", wanted)
        )
        assert len(found) == 1, "the consultant has one account, owned by their person id"
        _, values = found[0]
        assert values["title"] == [b"Consultant"] and values["mail"] == [CONSULTANT_MAIL]
        assert int(values["userAccountControl"][0]) & ACCOUNT_DISABLED == 0

        ended = (date.today() - timedelta(days=2)).isoformat()
        patch(
            client_for(users["admin"]), f"/api/people/{saved['person']['id']}", {"end_date": ended}
        )
        post(operator, provision, {"connection": "consultants"})
        ((_, after),) = directory.search(
            ad_config.users_ou_dn, f"(employeeNumber={person_id})", wanted
        )
        assert int(after["userAccountControl"][0]) & ACCOUNT_DISABLED, "a leaver is disabled"
    finally:
        directory.close()
