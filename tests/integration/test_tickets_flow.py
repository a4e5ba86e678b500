"""Issue 3 end to end: tickets from an import, the seed's trigger provisioning into Samba AD,
outcome comments, closing, e-mail to managers and IT, an AD outage, an unresolved manager.

Real parts: the Flex HRM simulator, Samba AD (reached through a relay the test can cut), an
aiosmtpd sink with STARTTLS and AUTH, SQLite in a throwaway HRSYNC_HOME, `hrsync` as a process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.mail_sink import PASSWORD, USERNAME, MailSink, run_mail_sink
from tests.sites import cli_env
from tests.tcp_relay import TcpRelay

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

HRSYNC = str(Path(sys.executable).with_name("hrsync"))


@dataclass
class Desk:
    sim: FlexSimulator
    dataset: dict[str, Any]
    env: dict[str, str]
    sink: MailSink
    relay: TcpRelay
    directory: DirectoryClient
    base_dn: str

    def hrsync(self, *args: str) -> Any:
        done = subprocess.run(
            [HRSYNC, *args], env=self.env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if "--json" in args else done.stdout

    def ticket_of(self, employee_number: str, *, kind: str | None = None) -> dict[str, Any]:
        rows = [
            t
            for t in self.hrsync("tickets", "list", "--json")
            if t["employee_number"] == employee_number and kind in (None, t["kind"])
        ]
        assert rows, f"no ticket for {employee_number}"
        return dict(self.hrsync("tickets", "show", str(rows[0]["id"]), "--json"))

    def mails_to(self, address: str) -> list[str]:
        return [m.part("text/plain") for m in self.sink.mails if address in m.rcpt_tos]


def config(desk_url: str, dc: SambaDC, base: str, sim: FlexSimulator, sink: MailSink) -> str:
    mail = (
        f'type = "email"\nhost = "{sink.host}"\nport = {sink.port}\nsecurity = "starttls"\n'
        f'username = "{USERNAME}"\npassword_env = "SMTP_PASSWORD"\ntls_verify = false\n'
        'from_address = "hrsync@example.test"\n'
    )
    return f"""
[sources.flex]
type = "flexhrm"
url = "{sim.url}"
instance = "acme"
username = "api"
password_env = "FLEX_PASSWORD"

[connections.ad]
source = "flex"
type = "active_directory"
url = "{desk_url}"
ca_file = "{dc.ca_file}"
bind_dn = "{dc.bind_dn}"
password_env = "AD_PASSWORD"
base_dn = "{base}"
users_ou = "OU=People,{base}"
upn_suffix = "{dc.realm.lower()}"

[channels.managers]
{mail}to = ["{{{{ manager.email }}}}"]

[channels.it]
{mail}to = ["it@example.test"]

[triggers.provision-new-hires]
event = "ticket.created"
conditions = [{{ field = "created", op = "equals", value = true }},
              {{ field = "source", op = "equals", value = "FlexHR" }}]
actions = [{{ do = "provision", connection = "ad" }}]

[triggers.welcome-to-manager]
event = "ticket.closed"
conditions = [{{ field = "kind", op = "equals", value = "joiner" }}]
actions = [{{ do = "notify", channel = "managers", template = "joiner_provisioned" }}]

[triggers.tell-it]
event = "run.failed"
actions = [{{ do = "notify", channel = "it", template = "provisioning_failed" }}]
"""


@pytest.fixture(scope="module")
def desk(
    samba_dc: SambaDC, admin_directory: DirectoryClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    dataset = generate_dataset(count=30, seed=5)
    sim = FlexSimulator(dataset, credentials=Credentials("acme", "api", "flex-secret"))
    sim.start()
    directory = admin_directory
    base = f"OU=tix{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    relay = TcpRelay(samba_dc.host, 636)
    relay.start()
    home = tmp_path_factory.mktemp("desk")
    with run_mail_sink(home) as sink:
        path = home / "desk.toml"
        path.write_text(config(f"ldaps://{relay.host}:{relay.port}", samba_dc, base, sim, sink))
        env = cli_env(
            home,
            FLEX_PASSWORD="flex-secret",
            AD_PASSWORD=samba_dc.admin_password,
            SMTP_PASSWORD=PASSWORD,
        )
        desk = Desk(sim, dataset, env, sink, relay, directory, base)
        desk.hrsync("config", "load", str(path))
        try:
            yield desk
        finally:
            relay.cut()
            directory.delete(base, with_subtree=True)
            sim.stop()


def employee(dataset: dict[str, Any], employee_id: str) -> dict[str, Any]:
    return next(e for e in dataset["employees"] if e["id"] == employee_id)


def number_of(e: dict[str, Any]) -> str:
    return str(e["employment"][0]["employmentNumber"])


def test_joiners_get_a_ticket_each_are_provisioned_and_their_managers_told(desk: Desk) -> None:
    imported = desk.hrsync("import", "flex", "--json")
    tickets = desk.hrsync("tickets", "list", "--json")
    assert len(tickets) == imported["new"] == 30
    assert {t["source"] for t in tickets} == {"Flex HRM"}
    assert all(t["source_icon"].endswith("flexhrm.svg") for t in tickets)
    report = next(
        e
        for e in desk.dataset["employees"]
        if e["immediateManagerEmployeeId"]
        and not e["employmentPeriods"][-1]["toDate"]
        and employee(desk.dataset, e["immediateManagerEmployeeId"])["emailWork"]
        and date.fromisoformat(e["employmentPeriods"][-1]["fromDate"][:10]) <= date.today()
    )
    ticket = desk.ticket_of(number_of(report))
    assert ticket["kind"] == "joiner" and ticket["status"] == "closed"
    texts = "\n".join(c["text"] for c in ticket["comments"])
    assert f"Base DN: {desk.base_dn}" in texts
    assert "Username (sAMAccountName): " in texts
    assert "Closed: every connection has carried out this change (ad)" in texts
    manager = employee(desk.dataset, report["immediateManagerEmployeeId"])
    mails = desk.mails_to(manager["emailWork"].lower()) + desk.mails_to(manager["emailWork"])
    assert any(report["firstName"] in text for text in mails)


def test_a_second_edit_while_the_ticket_is_open_comments_instead_of_a_new_ticket(
    desk: Desk,
) -> None:
    someone = desk.dataset["employees"][3]
    desk.relay.cut()  # the provisioning trigger fails, so the ticket stays open
    desk.sim.patch_employee(someone["id"], {"phone1": "+46 8 555 0101"})
    desk.hrsync("import", "flex", "--json")
    update = desk.ticket_of(number_of(someone), kind="update")
    assert update["status"] == "new", update
    desk.sim.patch_employee(someone["id"], {"city": "Luleå"})
    desk.hrsync("import", "flex", "--json")
    again = desk.ticket_of(number_of(someone), kind="update")
    assert again["id"] == update["id"]
    updates = [
        t
        for t in desk.hrsync("tickets", "list", "--json")
        if t["employee_number"] == number_of(someone) and t["kind"] == "update"
    ]
    assert len(updates) == 1
    assert any(
        "The information changed in HR" in c["text"] and "Luleå" in c["text"]
        for c in again["comments"]
    )


def new_employee(desk: Desk, first: str, last: str, number: str, **extra: Any) -> dict[str, Any]:
    template = desk.dataset["employees"][0]
    template = {k: v for k, v in template.items() if k != "modified"}  # new: modified now
    person = (
        template
        | {
            "id": str(uuid.uuid4()),
            "firstName": first,
            "lastName": last,
            "emailWork": f"e{number}@acme.example",
            "employment": [{"employmentNumber": number}],
            "employmentPeriods": [
                p | {"id": str(uuid.uuid4()), "toDate": None, "fromDate": "2024-01-01"}
                for p in template["employmentPeriods"][-1:]
            ],
            "immediateManagerEmployeeId": template["id"],
        }
        | extra
    )
    desk.sim.add_employee(person)
    return person


def test_an_ad_outage_leaves_the_ticket_open_tells_it_and_the_next_run_closes_it(
    desk: Desk,
) -> None:
    desk.relay.cut()
    joiner = new_employee(desk, "Östen", "Outage", "880001")
    desk.hrsync("import", "flex", "--json")
    ticket = desk.ticket_of("880001")
    assert ticket["status"] == "new"
    assert any(
        "could not be carried out" in c["text"] and "What to do" in c["text"]
        for c in ticket["comments"]
    )
    assert any(
        "Östen Outage" in text or "880001" in text for text in desk.mails_to("it@example.test")
    )
    desk.relay.restore()
    desk.hrsync("run", "ad", "--json")
    ticket = desk.ticket_of("880001")
    assert ticket["status"] == "closed", ticket["comments"]
    assert joiner["firstName"] in ticket["title"]


def test_an_unresolved_manager_is_asked_for_then_fixed_once_the_manager_has_an_account(
    desk: Desk,
) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    boss = new_employee(desk, "Berit", "Boss", "770001")
    desk.sim.patch_employee(
        boss["id"], {"employmentPeriods": [boss["employmentPeriods"][0] | {"toDate": yesterday}]}
    )
    new_employee(desk, "Rut", "Report", "770002", immediateManagerEmployeeId=boss["id"])
    desk.hrsync("import", "flex", "--json")
    ticket = desk.ticket_of("770002")
    assert ticket["status"] == "new"
    assert any(
        "the manager must be entered manually: Berit Boss (employee number 770001)" in c["text"]
        for c in ticket["comments"]
    )
    desk.sim.patch_employee(
        boss["id"], {"employmentPeriods": [boss["employmentPeriods"][0] | {"toDate": None}]}
    )
    desk.hrsync("import", "flex", "--json")  # Berit is rehired: provisioned by the trigger
    desk.hrsync("run", "ad", "--json")  # the next run sets Rut's manager by itself
    ticket = desk.ticket_of("770002")
    assert ticket["status"] == "closed", ticket["comments"]
    rut = desk.directory.search(desk.base_dn, "(employeeID=770002)", ["manager"])
    assert next(values["manager"][0].decode() for _, values in rut).startswith("CN=Berit Boss")
