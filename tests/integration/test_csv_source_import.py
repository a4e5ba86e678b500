"""A CSV source imported from files: add mode, replace mode making leavers (with tickets), the
shrink guard holding a replace file that lists 40 % fewer, a preview that records nothing, the
CLI, the upload API (preview, then confirm; viewers refused), and the scheduled pickup.

Real parts: the database, the CLI in a subprocess, the API and console through Django's test
client, a pickup folder on disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from tests.integration.api_data import client_for
from tests.sites import cli_env

from hrsync.app.imports.file_import import import_file, preview_file
from hrsync.app.imports.import_job import run_import_job
from hrsync.app.imports.uploads import pick_up
from hrsync.app.models import (
    AuditEvent,
    Connection,
    Import,
    InvalidRecord,
    JobRun,
    Person,
    PersonnelChange,
    Source,
    SourceUpload,
    Ticket,
)
from hrsync.app.runs.connection_run import run_connection

pytestmark = pytest.mark.django_db

HEADER = "CSV_USERNAME;CSV_FIRSTNAME;CSV_SURNAME;CSV_EMAIL;CSV_TITLE;CSV_DEPARTMENT"
HRSYNC = str(Path(sys.executable).with_name("hrsync"))


def row(n: int, title: str = "Ekonom") -> str:
    return f"user{n:03};Given{n};Family{n};user{n}@example.test;{title};Finance"


def csv_file(numbers: range | list[int], *extra: str) -> bytes:
    return ("\r\n".join([HEADER, *(row(n) for n in numbers), *extra]) + "\r\n").encode()


def yesterday() -> str:
    return (datetime.now(ZoneInfo("Europe/Stockholm")).date() - timedelta(days=1)).isoformat()


@pytest.fixture
def source() -> Source:
    return Source.objects.create(key="people", kind="csv", settings={"format": "flexwhere"})


def stored(person_id: str) -> Person:
    return Person.objects.get(source__key="people", person_id=person_id)


def test_add_mode_adds_and_updates_and_opens_tickets(source: Source) -> None:
    first = import_file("people", csv_file(range(1, 4)))
    assert first.summary.counts() == {
        "fetched": 3, "new": 3, "changed": 0, "unchanged": 0, "invalid": 0
    }  # fmt: skip
    changed = csv_file([1], row(2, "Chef"))
    second = import_file("people", changed, "add")
    assert (second.summary.new, second.summary.changed, second.summary.unchanged) == (0, 1, 1)
    assert stored("user002").fields["title"] == "Chef"
    assert stored("user003").fields["end_date"] is None  # add mode: missing is not leaving
    assert Ticket.objects.filter(source=source, kind="joiner").count() == 3
    assert PersonnelChange.objects.filter(kind="mover", person__person_id="user002").exists()


def test_replace_mode_makes_missing_people_leavers_with_tickets(source: Source) -> None:
    import_file("people", csv_file(range(1, 11)))
    Ticket.objects.update(status=Ticket.Status.CLOSED)  # the joiners are done
    done = import_file("people", csv_file(range(1, 10)), "replace")
    assert done.leavers == 1
    assert stored("user010").fields["end_date"] == yesterday()
    assert stored("user001").fields["end_date"] is None
    leaver = PersonnelChange.objects.get(kind="leaver")
    assert leaver.person.person_id == "user010"
    assert leaver.changed == {"end_date": [None, yesterday()]}
    assert Ticket.objects.filter(person__person_id="user010", kind="leaver").exists()
    again = import_file("people", csv_file(range(1, 10)), "replace")
    assert (again.leavers, again.summary.changed) == (0, 0)  # a leaver leaves once


def test_a_row_set_aside_does_not_make_its_person_a_leaver(source: Source) -> None:
    import_file("people", csv_file(range(1, 4)))
    broken = csv_file([1, 2], "user003;Given3;Family3;user3@;;")
    done = import_file("people", broken, "replace")
    assert (done.leavers, done.summary.invalid) == (0, 1)
    assert stored("user003").fields["end_date"] is None
    (record,) = InvalidRecord.objects.filter(source_import_id=done.summary.import_id)
    assert record.reason == "line 4, CSV_EMAIL: 'user3@' is not an e-mail address"


def test_a_replace_file_listing_40_percent_fewer_is_held_until_accepted(source: Source) -> None:
    import_file("people", csv_file(range(1, 31)))
    held = import_file("people", csv_file(range(1, 19)), "replace")
    assert held.summary.held == (
        "the source listed 18 people, 12 fewer than the 30 of the last import "
        "(40 % fewer; held when more than 10 % and at least 10 fewer)"
    )
    assert held.leavers == 0
    assert Import.objects.get(pk=held.summary.import_id).status == "held"
    assert not Person.objects.exclude(fields__end_date=None).exists()  # nothing recorded
    assert AuditEvent.objects.filter(action="source.import_held", object_key="people").exists()
    accepted = import_file("people", csv_file(range(1, 19)), "replace", accepted_by="olle")
    assert (accepted.summary.held, accepted.leavers) == ("", 12)
    assert AuditEvent.objects.get(action="source.shrink_accepted").actor == "olle"


def test_a_preview_shows_adds_updates_leavers_and_errors_and_records_nothing(
    source: Source,
) -> None:
    import_file("people", csv_file(range(1, 4)))
    before = (Import.objects.count(), PersonnelChange.objects.count(), Ticket.objects.count())
    changed = csv_file(
        [1, 4], "user002;Given2;Family2;user2@example.test;Chef;Finance", "x;=1;Y;z@example.test;;"
    )
    preview = preview_file("people", changed, "replace", "list.csv")
    assert preview.counts() == {
        "listed": 4, "adds": 1, "updates": 1, "leavers": 1, "unchanged": 1, "invalid": 1
    }  # fmt: skip
    assert [d.person_id for d in preview.adds] == ["user004"]
    (update,) = preview.updates
    assert (update.person_id, update.kind, update.changed) == (
        "user002", "mover", {"title": ("Ekonom", "Chef")}
    )  # fmt: skip
    assert [(d.person_id, d.changed) for d in preview.leavers] == [
        ("user003", {"end_date": (None, yesterday())})
    ]
    assert [e.reason for e in preview.invalid] == [
        "line 5, CSV_FIRSTNAME: '=1' starts like a spreadsheet formula"
    ]
    assert preview.dialect == "UTF-8, ';' separated, no quoting, CRLF lines"
    after = (Import.objects.count(), PersonnelChange.objects.count(), Ticket.objects.count())
    assert after == before


def test_a_file_that_is_not_csv_records_nothing(source: Source) -> None:
    with pytest.raises(Exception, match="the file is not CSV: it is a PDF document"):
        import_file("people", b"%PDF-1.4 ...")
    assert not Import.objects.exists()


def test_the_cli_previews_as_json_then_imports(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = tmp_path / "hrsync.toml"
    config.write_text('[sources.people]\ntype = "csv"\nformat = "flexwhere"\nmode = "replace"\n')
    listing = tmp_path / "people.csv"
    listing.write_bytes(csv_file(range(1, 4), "bad;;X;bad@example.test;;"))

    def hrsync(*args: str) -> subprocess.CompletedProcess[str]:
        env = cli_env(home)
        return subprocess.run([HRSYNC, *args], env=env, capture_output=True, text=True, check=False)

    assert hrsync("config", "load", str(config)).returncode == 0
    shown = hrsync("import-file", "people", str(listing), "--preview", "--json")
    assert shown.returncode == 0, shown.stderr
    preview = json.loads(shown.stdout)
    assert preview["mode"] == "replace"  # the source's default
    assert preview["counts"] == {
        "listed": 4, "adds": 3, "updates": 0, "leavers": 0, "unchanged": 0, "invalid": 1
    }  # fmt: skip
    assert preview["invalid"][0]["reason"] == "line 5, CSV_FIRSTNAME: is mandatory and empty"
    assert json.loads(hrsync("import-file", "people", str(listing), "--json").stdout) == {
        "fetched": 4, "new": 3, "changed": 0, "unchanged": 0, "invalid": 1, "leavers": 0
    }  # fmt: skip
    listing.write_bytes(csv_file(range(1, 3)))
    added = hrsync("import-file", "people", str(listing), "--mode", "add")
    assert added.stdout.strip() == "fetched 2, new 0, changed 0, unchanged 2, invalid 0, leavers 0"
    refused = hrsync("import-file", "people", str(tmp_path / "hrsync.toml"))
    assert refused.returncode == 1
    assert "hrsync.toml: the header names none of the columns" in refused.stderr
    assert "nothing was recorded" in refused.stderr


def confirm(client: Client, upload_id: int, **body: bool) -> Any:
    url = f"/api/sources/people/uploads/{upload_id}/confirm"
    return client.post(url, body, content_type="application/json")


def upload(client: Client, content: bytes, mode: str = "") -> Any:
    data = {"file": SimpleUploadedFile("list.csv", content, "text/csv")}
    return client.post("/api/sources/people/uploads", data | ({"mode": mode} if mode else {}))


def test_an_upload_previews_and_only_the_confirmation_records_it(
    source: Source, users: dict[str, User]
) -> None:
    operator = client_for(users["operator"])
    answer = upload(operator, csv_file(range(1, 4)), "replace")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["status"] == "pending" and body["counts"]["adds"] == 3
    assert [d["person_id"] for d in body["adds"]] == ["user001", "user002", "user003"]
    assert not Import.objects.exists()
    kept = SourceUpload.objects.get(pk=body["id"])
    assert bytes(kept.content) == csv_file(range(1, 4))
    assert AuditEvent.objects.get(action="source.file_uploaded").actor == "operator"

    confirmed = confirm(operator, body["id"])
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["counts"]["new"] == 3
    assert Person.objects.filter(source=source).count() == 3
    assert AuditEvent.objects.get(action="source.file_confirmed").actor == "operator"
    kept.refresh_from_db()
    assert (kept.status, bytes(kept.content)) == ("confirmed", b"")
    again = confirm(operator, body["id"])
    assert again.status_code == 409
    assert (
        again.json()["error"]["message"]
        == f"upload {body['id']} is confirmed: upload the file again"
    )


def test_viewers_can_neither_upload_nor_confirm(source: Source, users: dict[str, User]) -> None:
    viewer = client_for(users["viewer"])
    assert upload(viewer, csv_file(range(1, 4))).status_code == 403
    pending = upload(client_for(users["operator"]), csv_file(range(1, 4))).json()
    assert confirm(viewer, pending["id"]).status_code == 403
    assert not Import.objects.exists()


def test_an_upload_that_is_not_csv_is_refused_and_not_kept(
    source: Source, users: dict[str, User]
) -> None:
    answer = upload(client_for(users["operator"]), b"PK\x03\x04 an xlsx")
    assert answer.status_code == 422
    assert "Excel workbook" in answer.json()["error"]["message"]
    assert not SourceUpload.objects.exists()


def test_a_held_upload_stays_pending_until_confirmed_with_accept_shrink(
    source: Source, users: dict[str, User]
) -> None:
    import_file("people", csv_file(range(1, 31)))
    operator = client_for(users["operator"])
    pending = upload(operator, csv_file(range(1, 19)), "replace").json()
    assert pending["held"].startswith("the source listed 18 people, 12 fewer")
    held = confirm(operator, pending["id"]).json()
    assert (held["status"], held["leavers"]) == ("pending", 0)
    accepted = confirm(operator, pending["id"], accept_shrink=True)
    assert (accepted.json()["status"], accepted.json()["leavers"]) == ("confirmed", 12)


def test_a_pickup_folder_takes_each_file_once_and_moves_it(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    Source.objects.create(
        key="people",
        kind="csv",
        settings={"format": "flexwhere", "delivery": "folder", "folder": str(folder)},
    )
    (folder / "a.csv").write_bytes(csv_file(range(1, 4)))
    (folder / "b.csv").write_bytes(b"not; a; list")
    now = timezone.now()
    job = JobRun.objects.create(
        kind=JobRun.Kind.IMPORT, key="people", scheduled_for=now, queued=now
    )
    run_import_job(job)  # what the scheduler's worker does for the source's slot
    (record,) = Import.objects.all()
    assert (job.source_import_id, record.counts["new"]) == (record.pk, 3)
    assert sorted(p.name for p in (folder / "processed").iterdir()) == ["a.csv", "b.csv"]
    refused = AuditEvent.objects.get(action="source.file_refused")
    assert refused.after["file"] == "b.csv"
    (folder / "a-again.csv").write_bytes(csv_file(range(1, 4)))  # the same bytes, renamed
    assert pick_up("people") == []
    assert Import.objects.count() == 1
    assert (folder / "processed" / "a-again.csv").exists()


def signed_in(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_of(client: Client, path: str) -> str:
    page = client.get(path).content.decode()
    return page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]


def test_the_console_uploads_previews_and_confirms(source: Source, users: dict[str, User]) -> None:
    import_file("people", csv_file(range(1, 4)))
    operator = signed_in(users["operator"])
    token = csrf_of(operator, "/sources/people/")
    listing = csv_file([1, 2], row(4), "x;=1;Y;z@example.test;;")
    sent = SimpleUploadedFile("staff.csv", listing, "text/csv")
    answer = operator.post(
        "/sources/people/uploads/",
        {"file": sent, "mode": "replace", "csrfmiddlewaretoken": token},
    )
    assert answer.status_code == 302, answer.content
    preview_url = answer["Location"]
    page = operator.get(preview_url).content.decode()
    assert "Preview: staff.csv" in page
    assert "UTF-8, &#x27;;&#x27; separated, no quoting, CRLF lines" in page
    assert "4 listed, 1 adds, 0 updates, 1 leavers, 2 unchanged, 1 invalid" in page
    assert "Given4 Family4" in page and "Given3 Family3" in page  # the add and the leaver
    assert "line 5, CSV_FIRSTNAME: &#x27;=1&#x27; starts like a spreadsheet formula" in page
    assert not Import.objects.filter(is_full=True).exists()

    confirm_url = f"{preview_url}confirm/"
    done = operator.post(confirm_url, {"csrfmiddlewaretoken": token}, follow=True)
    assert "recorded: 4 fetched, 1 new" in done.content.decode()
    assert stored("user003").fields["end_date"] == yesterday()
    assert stored("user004").fields["given_name"] == "Given4"


def test_the_console_refuses_viewers_and_posts_without_csrf(
    source: Source, users: dict[str, User]
) -> None:
    viewer = signed_in(users["viewer"])
    assert "Upload file" not in viewer.get("/sources/people/").content.decode()
    token = csrf_of(viewer, "/sources/people/")
    sent = SimpleUploadedFile("staff.csv", csv_file([1]), "text/csv")
    data = {"file": sent, "csrfmiddlewaretoken": token}
    assert viewer.post("/sources/people/uploads/", data).status_code == 403
    operator = signed_in(users["operator"])
    sent = SimpleUploadedFile("staff.csv", csv_file([1]), "text/csv")
    assert operator.post("/sources/people/uploads/", {"file": sent}).status_code == 403  # no CSRF
    assert not SourceUpload.objects.exists()


def test_csv_persons_reach_a_connection_and_a_replace_leaver_leaves_it(
    source: Source, tmp_path: Path
) -> None:
    """The same pipeline as Flex HRM persons: a CSV target connection on the CSV source
    writes the file's people, and drops the one a replace file made a leaver."""
    out, state = tmp_path / "out", tmp_path / "state"
    out.mkdir()
    state.mkdir()
    Connection.objects.create(
        key="flexwhere",
        source=source,
        kind="csv",
        state=Connection.State.ACTIVE,
        settings={"format": "flexwhere", "folder": str(out), "state_dir": str(state)},
    )
    import_file("people", csv_file(range(1, 4)))
    run_connection("flexwhere")
    delivered = (out / "flexwhere - users.csv").read_text(encoding="utf-8")
    assert all(f"user{n}@example.test" in delivered for n in (1, 2, 3))
    import_file("people", csv_file([1, 2]), "replace")
    run_connection("flexwhere")
    delivered = (out / "flexwhere - users.csv").read_text(encoding="utf-8")
    assert "user1@example.test" in delivered and "user3@example.test" not in delivered


def test_an_upload_left_unconfirmed_expires_and_loses_its_bytes(
    source: Source, users: dict[str, User]
) -> None:
    operator = client_for(users["operator"])
    pending = upload(operator, csv_file(range(1, 4))).json()
    SourceUpload.objects.filter(pk=pending["id"]).update(
        created=timezone.now() - timedelta(hours=25)
    )
    answer = confirm(operator, pending["id"])
    assert answer.status_code == 409
    assert answer.json()["error"]["message"] == (
        f"upload {pending['id']} is expired: upload the file again"
    )
    kept = SourceUpload.objects.get(pk=pending["id"])
    assert (kept.status, bytes(kept.content)) == ("expired", b"")
    assert not Import.objects.exists()


def test_hrsync_import_of_a_folder_source_picks_its_files_up(tmp_path: Path) -> None:
    home, drop = tmp_path / "home", tmp_path / "drop"
    drop.mkdir()
    config = tmp_path / "hrsync.toml"
    config.write_text(
        f'[sources.people]\ntype = "csv"\ndelivery = "folder"\nfolder = "{drop}"\n'
        'schedule = "*/15 * * * *"\n'
    )
    (drop / "people.csv").write_bytes(csv_file(range(1, 4)))
    env = cli_env(home)
    run = [HRSYNC, "config", "load", str(config)]
    assert subprocess.run(run, env=env, capture_output=True, check=False).returncode == 0
    picked = subprocess.run(
        [HRSYNC, "import", "people"], env=env, capture_output=True, text=True, check=False
    )
    assert picked.stdout.strip() == "fetched 3, new 3, changed 0, unchanged 0, invalid 0, leavers 0"
    assert (drop / "processed" / "people.csv").exists()
    again = subprocess.run(
        [HRSYNC, "import", "people"], env=env, capture_output=True, text=True, check=False
    )
    assert again.stdout.strip() == "no new file in the pickup folder"


def test_an_admin_creates_a_csv_source_and_bad_settings_are_refused(
    users: dict[str, User],
) -> None:
    admin = client_for(users["admin"])
    body = {"key": "staff", "kind": "csv", "settings": {"format": "ad_export", "mode": "replace"}}
    created = admin.post("/api/sources", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert (created.json()["kind"], created.json()["label"]) == ("csv", "CSV file")
    bad = body | {"key": "staff2", "settings": {"delivery": "folder"}}
    refused = admin.post("/api/sources", bad, content_type="application/json")
    assert refused.status_code == 422
    assert "delivery = folder needs folder" in refused.content.decode()
