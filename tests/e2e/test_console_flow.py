"""Issue 4 in a browser: an admin configures Flex HRM → Active Directory in the console.

Real parts: `hrsync serve` (waitress, SQLite), Debian chromium through Playwright, the Flex HRM
simulator over HTTP, and a throwaway Samba AD domain. The tests run in file order and share one
console: a source, then a connection walked through its six steps, then tickets, then the
connection's end. Selectors go by labels and roles, as a person (or a screen reader) finds things.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from tests.e2e.live import Console, Screenshot

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

pytestmark = [pytest.mark.samba, pytest.mark.timeout(900)]

FLEX_PASSWORD = "flex-e2e-secret"
SOURCE = "flex"
KEY = "ad-e2e"
NAME = "Active Directory (e2e)"


@pytest.fixture(scope="module")
def dataset() -> dict[str, Any]:
    """A small generated company."""
    return generate_dataset(count=20, seed=404)


@pytest.fixture(scope="module")
def flex(dataset: dict[str, Any]) -> Iterator[FlexSimulator]:
    """The Flex HRM simulator, in this process, serving `dataset`."""
    sim = FlexSimulator(dataset, credentials=Credentials("acme", "api", FLEX_PASSWORD))
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def domain_base(samba_dc: SambaDC, admin_directory: DirectoryClient) -> Iterator[str]:
    """An OU of this module's own, standing in for the connection's domain; removed afterwards."""
    base = f"OU=e2e{uuid.uuid4().hex[:8]},{samba_dc.base_dn}"
    admin_directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    yield base
    admin_directory.delete(base, with_subtree=True)


def field(page: Page, label: str) -> Locator:
    """The form field with this label, exactly, allowing the required marker after it."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}(\s*\*)?\s*$"))


def heading(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("heading", level=1, name=text)


def next_runs(page: Page) -> Locator:
    """The run times the schedule form previews (htmx fills them in as the fields change)."""
    return page.locator("#schedule-preview").get_by_role("listitem")


def current_step(page: Page) -> Locator:
    """The step the progress bar marks as current (it is the open one not yet done)."""
    return (
        page.get_by_role("navigation", name="Configuration progress")
        .get_by_role("listitem")
        .filter(has_text="(current)")
    )


def test_an_admin_creates_a_flex_hrm_source_and_imports_it(
    signed_in: Page, flex: FlexSimulator, screenshot: Screenshot
) -> None:
    page = signed_in
    expect(heading(page, "Dashboard")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sources").click()
    page.get_by_role("link", name="New Flex HRM source").click()
    field(page, "Key").fill(SOURCE)
    field(page, "Service URL").fill(flex.url)
    field(page, "Username").fill("api")
    field(page, "Password").fill(FLEX_PASSWORD)
    field(page, "Instance Id").fill("acme")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text(re.compile(r"^✓"))).to_be_visible()

    page.get_by_role("button", name="Load companies from Flex HRM").click()
    companies = page.get_by_role("group", name="Companies").get_by_role("checkbox")
    expect(companies.first).to_be_visible()
    for index in range(companies.count()):  # several may be chosen: here, all of them
        companies.nth(index).check()
    screenshot(page, "source-new")
    page.get_by_role("button", name="Create source").click()

    expect(heading(page, re.compile(SOURCE))).to_be_visible()
    expect(page.get_by_text(f"Source {SOURCE} created.")).to_be_visible()
    expect(page.get_by_text(flex.url)).to_be_visible()
    page.get_by_role("button", name="Import now").click()
    expect(page.get_by_text(re.compile(r"Import \d+ finished"))).to_be_visible()
    expect(page.get_by_role("region", name="Recent imports")).to_contain_text("20 new")
    screenshot(page, "source-detail")


def test_an_admin_walks_an_ad_connection_through_the_steps_and_activates_it(
    signed_in: Page,
    samba_dc: SambaDC,
    domain_base: str,
    screenshot: Screenshot,
) -> None:
    page = signed_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    page.get_by_role("link", name="New connection").click()
    field(page, "Key").fill(KEY)
    field(page, "Name").fill(NAME)
    field(page, "Source HR system").select_option(label=f"{SOURCE} (flexhrm)")
    page.get_by_role("button", name="Create and continue").click()

    expect(heading(page, "2. Target settings")).to_be_visible()
    fill_target_settings(page, samba_dc, domain_base)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text(re.compile(r"Connected\."))).to_be_visible()
    page.get_by_role("button", name="Save and continue").click()

    expect(heading(page, "3. Attribute mapping")).to_be_visible()
    expect(page.get_by_role("rowheader", name="sAMAccountName")).to_be_visible()
    page.get_by_role("button", name="Confirm mapping and continue").click()

    expect(heading(page, "4. Scope and safety")).to_be_visible()
    expect(field(page, "Deletes: and at least this many")).to_have_value("10")
    page.get_by_role("button", name="Save and continue").click()

    expect(heading(page, "5. Simulate")).to_be_visible()
    page.get_by_role("main").get_by_role("button", name="Simulate").click()
    check_simulate_diff(page, screenshot)

    page.get_by_role("link", name="Set schedule and activate").click()
    expect(heading(page, "6. Schedule and activate")).to_be_visible()
    field(page, "every interval from a start time").check()
    field(page, "Start time").fill("2026-01-05T06:00")
    field(page, "Interval").fill("30")
    field(page, "Unit").select_option(label="minutes")
    expect(next_runs(page)).to_have_count(5)
    expect(next_runs(page).first).to_contain_text(re.compile(r":(00|30) "))  # on the half hour
    screenshot(page, "connection-schedule")
    page.get_by_role("button", name="Save and activate").click()

    expect(heading(page, re.compile(re.escape(NAME)))).to_be_visible()
    expect(page.get_by_text(f"{NAME} is active")).to_be_visible()
    facts = page.get_by_role("region", name="Connection")
    expect(facts.get_by_text("every 30m from 2026-01-05T06:00")).to_be_visible()
    expect(facts.get_by_text(domain_base, exact=True)).to_be_visible()
    screenshot(page, "connection-detail")
    page.get_by_role("link", name="Connections", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text=NAME)
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    screenshot(page, "connections-list")


def fill_target_settings(page: Page, samba_dc: SambaDC, domain_base: str) -> None:
    field(page, "Domain controller URL").fill(samba_dc.url)
    field(page, "Verify the certificate").check()
    field(page, "CA bundle file").fill(str(samba_dc.ca_file))
    field(page, "Bind DN or user@domain").fill(samba_dc.bind_dn)
    field(page, "Password").fill(samba_dc.admin_password)
    field(page, "Base DN (domain)").fill(domain_base)
    field(page, "Users OU").fill(f"OU=People,{domain_base}")
    field(page, "UPN suffix").fill(samba_dc.realm.lower())


def check_simulate_diff(page: Page, screenshot: Screenshot) -> None:
    """The plan as a per-person diff: counts, the gate's verdict, each value's lineage, a filter
    that narrows it."""
    expect(heading(page, re.compile(r"Simulation #\d+"))).to_be_visible()
    expect(page.get_by_role("heading", name="Safety gate: passes")).to_be_visible()
    people = page.get_by_role("region", name="Changes per person")
    first = people.get_by_role("article").first
    expect(first.get_by_role("heading")).to_contain_text("create")
    expect(first.get_by_role("rowheader", name="sAMAccountName")).to_be_visible()
    # Each value says why: the rule that gave it and the HR fields it read.
    given = first.get_by_role("row").filter(has=page.get_by_role("rowheader", name="givenName"))
    expect(given.get_by_role("cell").last).to_contain_text("[given_name]")
    expect(given.get_by_role("cell").last).to_contain_text("reads Given name")
    title = re.match(r"(.+?)\s+#(\d+)", first.get_by_role("heading").inner_text())
    assert title is not None
    name, number = title.groups()
    field(page, "Kind").select_option("create")
    field(page, "Search").fill(number)
    expect(people.get_by_role("article")).to_have_count(1)
    expect(people.get_by_role("heading", name=re.compile(re.escape(name)))).to_be_visible()
    screenshot(page, "simulate-diff")


def test_editing_step_2_resets_the_progress(
    signed_in: Page, console: Console, samba_dc: SambaDC
) -> None:
    page = signed_in
    page.goto(f"{console.url}/connections/{KEY}/")
    page.get_by_role("link", name=re.compile("Target settings")).click()
    expect(page.get_by_role("note")).to_contain_text("resets the progress to step 3")
    field(page, "UPN suffix").fill(samba_dc.realm.lower())
    page.get_by_role("button", name="Save and continue").click()

    expect(heading(page, "3. Attribute mapping")).to_be_visible()
    expect(current_step(page)).to_contain_text("Attribute mapping")
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()
    page.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("link", name="Deactivate")).to_have_count(0)
    expect(page.get_by_text("Configuration continues at step 3")).to_be_visible()

    page.goto(f"{console.url}/connections/{KEY}/step/6/")  # no way round the later steps
    expect(heading(page, "3. Attribute mapping")).to_be_visible()
    expect(page.get_by_text("Step 6 opens once step 3 is done.")).to_be_visible()

    # Walk the later steps again: only then can it be activated.
    page.get_by_role("button", name="Confirm mapping and continue").click()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("main").get_by_role("button", name="Simulate").click()
    expect(page.get_by_role("heading", name="Safety gate: passes")).to_be_visible()
    page.get_by_role("link", name="Set schedule and activate").click()
    field(page, "on a cron schedule").check()
    field(page, "Cron expression").fill("*/30 7-18 * * 1-5")
    expect(next_runs(page)).to_have_count(5)
    page.get_by_role("button", name="Save and activate").click()
    expect(page.get_by_text(f"{NAME} is active")).to_be_visible()


def test_a_tickets_comments_appear_after_a_run(
    signed_in: Page, dataset: dict[str, Any], domain_base: str, screenshot: Screenshot
) -> None:
    page = signed_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("table").get_by_role("row")).not_to_have_count(0)
    screenshot(page, "tickets-list")
    number = employee_number_of(employed_without_manager(dataset))
    field(page, "Name or employee number").fill(number)
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=number, exact=True))
    row.get_by_role("link").first.click()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_role("listitem").first).to_be_visible()
    expect(timeline).not_to_contain_text("Base DN")

    page.get_by_role("region", name="Person").get_by_role("link").first.click()
    field(page, "On").select_option(label=NAME)
    page.get_by_role("button", name="Provision now").click()
    expect(page.get_by_role("status").filter(has_text=KEY)).to_contain_text("succeeded")

    page.get_by_role("region", name="Ticket history").get_by_role("link").first.click()
    expect(timeline).to_contain_text(f"Base DN: {domain_base}")
    expect(timeline).to_contain_text(f",OU=People,{domain_base}")
    expect(timeline).to_contain_text("Username (sAMAccountName)")
    expect(page.get_by_role("region", name="Connections").get_by_text(KEY)).to_be_visible()
    expect(page.get_by_text("Closed", exact=True).first).to_be_visible()
    field(page, "Add a comment").fill("Welcome pack sent.")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(timeline).to_contain_text("Welcome pack sent.")
    screenshot(page, "ticket-detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name=re.compile("Open tickets"))).to_be_visible()
    screenshot(page, "dashboard")


def employed_without_manager(dataset: dict[str, Any]) -> dict[str, Any]:
    """An employee working today with no manager, so one run settles the ticket in full."""
    today = date.today()
    for employee in dataset["employees"]:
        period = employee["employmentPeriods"][-1]
        starts = date.fromisoformat(period["fromDate"][:10])
        if not employee["immediateManagerEmployeeId"] and starts <= today and not period["toDate"]:
            return dict(employee)
    pytest.fail("the generated dataset has no current employee without a manager")


def employee_number_of(employee: dict[str, Any]) -> str:
    return str(employee["employment"][0]["employmentNumber"])


def test_deactivate_activate_and_delete_with_a_confirmation_that_names_it(
    signed_in: Page, console: Console
) -> None:
    page = signed_in
    page.goto(f"{console.url}/connections/{KEY}/")
    page.get_by_role("link", name="Deactivate").click()
    expect(heading(page, f"Deactivate “{NAME}”?")).to_be_visible()
    page.get_by_role("button", name=f"OK, deactivate {KEY}").click()
    expect(heading(page, re.compile(re.escape(NAME)))).to_contain_text("Deactivated")

    page.get_by_role("link", name="Activate", exact=True).click()
    page.get_by_role("button", name=f"OK, activate {KEY}").click()
    expect(heading(page, re.compile(re.escape(NAME)))).to_contain_text("Active")

    page.get_by_role("link", name="Delete").click()
    expect(heading(page, f"Delete “{NAME}”?")).to_be_visible()
    confirm = page.get_by_label(re.compile(f"Type {KEY} to confirm"))
    confirm.fill("ad-something-else")
    page.get_by_role("button", name=f"OK, delete {KEY}").click()
    expect(page.get_by_role("alert")).to_contain_text(KEY)
    page.get_by_label(re.compile(f"Type {KEY} to confirm")).fill(KEY)
    page.get_by_role("button", name=f"OK, delete {KEY}").click()

    expect(heading(page, "Connections")).to_be_visible()
    expect(page.get_by_text(f"Deleted {KEY}. Its audit log is kept.")).to_be_visible()
    expect(page.get_by_role("link", name=NAME)).to_have_count(0)


def test_the_audit_log_keeps_a_deleted_connections_history(
    signed_in: Page, samba_dc: SambaDC, screenshot: Screenshot
) -> None:
    page = signed_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    filters = page.get_by_role("search", name="Filter the audit log")
    filters.get_by_label("Connection").fill(KEY)
    filters.get_by_role("button", name="Filter").click()
    events = page.get_by_role("table")
    for action in ("connection.created", "connection.activated", "connection.deleted"):
        expect(events.get_by_text(action, exact=True).first).to_be_visible()
    expect(events).not_to_contain_text(samba_dc.admin_password)  # secrets never reach it
    screenshot(page, "audit-log")
