"""Console pages of connections and runs, through Django's test client: who may do what, and
that the pages show the data. Simulations plan against an unreachable directory (a closed
loopback port), which a simulation tolerates and says so; runs on Samba are proven in
test_lifecycle."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from hrsync.app.models import AuditEvent, Connection, Person, Run, RunChange, Source, Trigger
from hrsync.app.security import secrets
from hrsync.domain.changes import CreateAccount, DisableAccount, UpdateAttributes
from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId
from hrsync.domain.person import Employment
from hrsync.domain.person import Person as DomainPerson
from hrsync.domain.plan import Plan, serialise_changes

pytestmark = pytest.mark.django_db
UNREACHABLE = "ldaps://127.0.0.1:1"
TARGET = {
    "url": UNREACHABLE,
    "bind_dn": "CN=hrsync,CN=Users,DC=example,DC=test",
    "base_dn": "DC=example,DC=test",
    "users_ou": "OU=Staff",
    "upn_suffix": "example.test",
}
STEP2_FORM = TARGET | {"tls_verify": "on", "password": "", "ca_file": "", "action": "save"}


def client_for(role: str | None) -> Client:
    client = Client()
    if role is not None:
        user = User.objects.create_user(role, password="x")
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
    return client


def domain_person(number: int, company: str = "Acme AB") -> DomainPerson:
    return DomainPerson(
        person_id=PersonId(f"p{number}"),
        employee_number=EmployeeNumber(str(1000 + number)),
        given_name="Greta" if number % 2 else "Olof",
        family_name=f"Lund{number}",
        employment=Employment("1", company, start_date=date(2020, 1, 1)),
    )


@pytest.fixture
def source() -> Source:
    flex = Source.objects.create(key="flex", kind="flexhrm", settings={"companies": ["Acme AB"]})
    for number in (1, 2, 3):
        person = domain_person(number)
        Person.objects.create(
            source=flex,
            person_id=person.person_id,
            employee_number=person.employee_number,
            display_name=person.display_name,
            fields=person.fields(),
            content_hash=person.content_hash(),
        )
    return flex


@pytest.fixture
def connection(source: Source) -> Connection:
    """In simulation, step 5, against a directory that cannot be reached."""
    return Connection.objects.create(
        key="ad",
        name="Head office AD",
        source=source,
        kind="active_directory",
        settings=TARGET | {"safety": {"disable": {"percent": 0, "count": 1}}},
        secret=secrets.encrypt("bind-secret"),
        state=Connection.State.SIMULATION,
        step=5,
    )


def stored_run(connection: Connection, status: str, *, simulation: bool) -> Run:
    """A run with a stored plan: Greta is created, Olof updated, someone disabled."""
    changes = (
        CreateAccount(
            PersonId("p1"),
            EmployeeNumber("1001"),
            "CN=Greta Lund1,OU=Staff,DC=example,DC=test",
            {"givenName": "Greta", "mail": "=HYPERLINK()"},
            True,
            "joiner",
        ),
        UpdateAttributes(
            PersonId("p2"),
            AccountId("g2"),
            "CN=Olof Lund2,OU=Staff,DC=example,DC=test",
            {"title": "Clerk"},
            {"title": "Manager"},
            "HR changed",
        ),
        DisableAccount(PersonId("p3"), AccountId("g3"), "CN=X,OU=Staff,DC=example,DC=test", "left"),
    )
    plan = Plan(changes)
    run = Run.objects.create(
        connection=connection,
        is_simulation=simulation,
        status=status,
        plan_counts=plan.counts(),
        fingerprint=plan.fingerprint(),
        started_by="schedule",
    )
    people = {p.person_id: p for p in Person.objects.all()}
    RunChange.objects.bulk_create(
        RunChange(
            run=run,
            person=people.get(str(item["person_id"])),
            kind=str(item["kind"]),
            ref=str(item["ref"]),
            payload=item,
        )
        for item in serialise_changes(changes)
    )
    return run


READ_PAGES = [
    "/connections/",
    "/connections/ad/",
    "/connections/ad/step/1/",
    "/connections/ad/step/2/",
    "/connections/ad/step/3/",
    "/connections/ad/step/4/",
    "/connections/ad/step/5/",
    "/connections/ad/schedule/?schedule=*/5+*+*+*+*",
    "/connections/ad/plan/{sim}/",
    "/connections/ad/plan/{sim}/?format=csv",
    "/runs/",
    "/runs/{held}/",
]
OPERATOR_POSTS = ["/connections/ad/simulate/", "/runs/{held}/approve/", "/runs/{held}/reject/"]
ADMIN_POSTS = [
    "/connections/new/",
    "/connections/ad/step/2/",
    "/connections/ad/activate/",
    "/connections/ad/deactivate/",
    "/connections/ad/delete/",
]
ADMIN_PAGES = [
    "/connections/new/",
    "/connections/ad/activate/",
    "/connections/ad/deactivate/",
    "/connections/ad/delete/",
]


@pytest.fixture
def urls(connection: Connection) -> dict[str, str]:
    sim = stored_run(connection, "simulated", simulation=True)
    held = stored_run(connection, "held", simulation=False)
    return {"sim": str(sim.pk), "held": str(held.pk)}


def test_anonymous_users_are_sent_to_sign_in(urls: dict[str, str]) -> None:
    client = client_for(None)
    for url in READ_PAGES + ADMIN_PAGES:
        response = client.get(url.format(**urls))
        assert response.status_code == 302, url
        assert response["Location"].startswith("/signin/?next="), url
    for url in OPERATOR_POSTS + ADMIN_POSTS:
        response = client.post(url.format(**urls))
        assert response.status_code == 302 and response["Location"].startswith("/signin/"), url


def test_a_viewer_reads_everything_and_changes_nothing(urls: dict[str, str]) -> None:
    client = client_for("viewer")
    for url in READ_PAGES:
        assert client.get(url.format(**urls)).status_code == 200, url
    for url in ADMIN_PAGES:
        assert client.get(url.format(**urls)).status_code == 403, url
    for url in OPERATOR_POSTS + ADMIN_POSTS:
        assert client.post(url.format(**urls)).status_code == 403, url
    assert Run.objects.get(pk=urls["held"]).status == "held"
    assert Connection.objects.get(key="ad").state == "simulation"
    assert not AuditEvent.objects.exists()
    detail = client.get("/connections/ad/").content.decode()
    assert "Simulate</button>" not in detail and "/delete/" not in detail


def test_an_operator_simulates_and_decides_held_runs_but_edits_nothing(
    urls: dict[str, str],
) -> None:
    client = client_for("operator")
    response = client.post("/connections/ad/simulate/")
    run = Run.objects.filter(is_simulation=True, started_by="operator").get()
    assert response["Location"] == f"/connections/ad/plan/{run.pk}/"
    assert run.plan_counts["create"] == 3
    assert "could not be reached" in run.error
    page = client.get(response["Location"]).content.decode()
    assert "Greta Lund1" in page and "Safety gate" in page

    # Approval reads the directory again first; it cannot be reached: the run stays held.
    response = client.post(f"/runs/{urls['held']}/approve/", follow=True)
    assert "could not start" in response.content.decode()
    assert Run.objects.get(pk=urls["held"]).status == "held"
    client.post(f"/runs/{urls['held']}/reject/", {"reason": "too many"})
    held = Run.objects.get(pk=urls["held"])
    assert (held.status, held.error) == ("failed", "rejected by operator: too many")
    assert AuditEvent.objects.filter(action="run.rejected", actor="operator").exists()

    for url in ADMIN_POSTS:
        assert client.post(url.format(**urls)).status_code == 403, url


def test_a_held_run_shows_its_diff_verdict_and_the_decision_buttons(urls: dict[str, str]) -> None:
    page = client_for("operator").get(f"/runs/{urls['held']}/").content.decode()
    assert "Held by the safety gate" in page
    assert f'action="/runs/{urls["held"]}/approve/"' in page
    assert "1 account would be disabled" in page
    assert "Clerk" in page and "Manager" in page
    viewer_page = client_for("viewer").get(f"/runs/{urls['held']}/").content.decode()
    assert "/approve/" not in viewer_page and "An operator can approve" in viewer_page


def test_the_plan_filters_by_kind_and_search_and_exports(urls: dict[str, str]) -> None:
    client = client_for("viewer")
    plan = f"/connections/ad/plan/{urls['sim']}/"
    updates = client.get(plan, {"kind": "update"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Olof Lund2" in updates and "Greta Lund1" not in updates
    assert "<html" not in updates  # a fragment for htmx
    found = client.get(plan, {"q": "1001"}).content.decode()
    assert "Greta Lund1" in found and "Olof Lund2" not in found
    csv_response = client.get(plan, {"format": "csv"})
    assert csv_response["Content-Disposition"].endswith(f'run{urls["sim"]}.csv"')
    assert "'=HYPERLINK()" in csv_response.content.decode()
    data = json.loads(client.get(plan, {"format": "json"}).content)
    assert data["counts"]["update"] == 1 and data["is_held"] is True


def test_the_table_searches_and_shows_state_source_and_target(connection: Connection) -> None:
    Connection.objects.create(key="other", name="Branch", source=connection.source, kind="x")
    client = client_for("viewer")
    page = client.get("/connections/").content.decode()
    assert "Head office AD" in page and "Branch" in page
    assert 'class="badge simulation"' in page and "Flex HRM" in page
    assert "Active Directory" in page and "DC=example,DC=test" in page
    found = client.get("/connections/", {"q": "head"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Head office AD" in found and "Branch" not in found


def test_an_admin_walks_the_steps_simulates_schedules_and_activates(source: Source) -> None:
    client = client_for("admin")
    response = client.post(
        "/connections/new/",
        {"key": "ad", "name": "AD", "source": "flex", "time_zone": "Europe/Stockholm"},
    )
    assert response["Location"] == "/connections/ad/step/2/"
    response = client.post("/connections/ad/step/2/", STEP2_FORM)
    assert response.status_code == 400 and "enter the secret" in response.content.decode()
    check = client.post(
        "/connections/ad/step/2/", STEP2_FORM | {"action": "test", "password": "pw"}
    )
    assert "Test failed." in check.content.decode()
    client.post("/connections/ad/step/2/", STEP2_FORM | {"password": "bind-secret"})
    assert client.get("/connections/ad/step/3/").status_code == 200
    client.post("/connections/ad/step/3/")
    scope = {"disable_percent": 5, "disable_count": 5, "delete_percent": 1, "delete_count": 1}
    scope |= {"move_percent": 20, "move_count": 9, "rename_percent": 5, "rename_count": 10}
    scope |= {"wipe_percent": 5, "wipe_count": 10, "companies": "Acme AB\n"}
    scope |= {"retire_group_percent": 50, "retire_group_count": 3}
    scope |= {"remove_members_percent": 5, "remove_members_count": 10}
    client.post("/connections/ad/step/4/", scope)
    connection = Connection.objects.get(key="ad")
    assert (connection.state, connection.step) == ("simulation", 5)
    assert connection.settings["scope"] == {"companies": ["Acme AB"]}
    assert connection.settings["safety"]["move"] == {"percent": 20, "count": 9}
    assert connection.settings["safety"]["retire_group"] == {"percent": 50, "count": 3}
    assert client.get("/connections/ad/step/6/")["Location"] == "/connections/ad/step/5/"

    client.post("/connections/ad/simulate/")
    preview = client.get(
        "/connections/ad/schedule/",
        {"mode": "interval", "start": "2026-01-01T06:00", "every": "1", "unit": "d"},
    ).content.decode()
    assert preview.count("<li>") == 5 and "06:00" in preview
    bad = client.get("/connections/ad/schedule/", {"mode": "cron", "cron": "61 * * * *"})
    assert "not a valid cron" in bad.content.decode()
    client.post(
        "/connections/ad/activate/",
        {"mode": "interval", "start": "2026-01-01T06:00", "every": "15", "unit": "m"},
    )
    connection.refresh_from_db()
    assert (connection.state, connection.schedule) == ("active", "every 15m from 2026-01-01T06:00")
    detail = client.get("/connections/ad/").content.decode()
    assert "Next run" in detail and "/audit/?connection=ad" in detail
    assert "Acme AB" in detail

    client.post("/connections/ad/step/2/", STEP2_FORM)  # editing resets the progress
    connection.refresh_from_db()
    assert (connection.state, connection.step) == ("draft", 3)


def test_an_admin_deactivates_activates_and_deletes_with_confirmation(
    connection: Connection,
) -> None:
    connection.state, connection.step, connection.schedule = "active", 7, "*/5 * * * *"
    connection.save()
    client = client_for("admin")
    confirm = client.get("/connections/ad/deactivate/").content.decode()
    assert "Deactivate “Head office AD”?" in confirm
    client.post("/connections/ad/deactivate/")
    assert Connection.objects.get(key="ad").state == "deactivated"
    assert "Activate “Head office AD”?" in client.get("/connections/ad/activate/").content.decode()
    client.post("/connections/ad/activate/")
    assert Connection.objects.get(key="ad").state == "active"
    Trigger.objects.create(
        name="provision-new-hires",
        event="ticket.created",
        actions=[{"do": "provision", "connection": "ad"}],
    )
    confirm = client.get("/connections/ad/delete/").content.decode()
    assert "Delete “Head office AD”?" in confirm and "provision-new-hires" in confirm
    refused = client.post("/connections/ad/delete/", {"confirm": "Head office AD"})
    assert refused.status_code == 400 and "type the connection" in refused.content.decode()
    response = client.post("/connections/ad/delete/", {"confirm": "ad"})
    assert response["Location"] == "/connections/"
    assert not Connection.objects.filter(key="ad").exists()
    assert list(
        AuditEvent.objects.filter(connection_key="ad").order_by("pk").values_list("action", "actor")
    ) == [
        ("connection.deactivated", "admin"),
        ("connection.activated", "admin"),
        ("connection.deleted", "admin"),
    ]


def test_the_connections_table_is_paged(source: Source) -> None:
    Connection.objects.bulk_create(
        Connection(key=f"c{n:03d}", name=f"Conn {n:03d}", source=source, kind="active_directory")
        for n in range(120)
    )
    viewer = client_for("viewer")
    first = viewer.get("/connections/").content.decode()
    assert "Conn 000" in first and "Conn 049" in first and "Conn 050" not in first
    assert 'href="?page=2"' in first
    third = viewer.get("/connections/?page=3").content.decode()
    assert "Conn 119" in third and 'rel="next"' not in third and 'href="?page=2"' in third
    searched = viewer.get("/connections/?q=Conn 11&page=1").content.decode()
    assert "Conn 110" in searched and "Conn 050" not in searched
