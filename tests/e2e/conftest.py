"""Browser fixtures: a real `hrsync serve` on loopback and Debian chromium driven by Playwright.

The console runs as its own process (waitress) with its own HRSYNC_HOME (SQLite) and an admin
made by `hrsync createadmin`. Chromium is Debian's /usr/bin/chromium: `playwright install` would
download a browser, which this project never does. Screenshots go to
$HRSYNC_TEST_OUTPUT/screenshots/ (default test-output/), and a failing test leaves one behind.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from tests.e2e.live import (
    ADMIN,
    CHROMIUM,
    CHROMIUM_FLAGS,
    HRSYNC,
    Console,
    Screenshot,
    free_port,
    save_screenshot,
    sign_in,
    wait_until_served,
)
from tests.servers import missing_server


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """`hrsync serve` on a free loopback port with a fresh SQLite home and one admin."""
    home = tmp_path_factory.mktemp("console")
    password = secrets.token_urlsafe(12)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"HRSYNC_HOME": str(home), "HRSYNC_ADMIN_PASSWORD": password}
    port = free_port()
    console = Console(f"http://127.0.0.1:{port}", home, env, ADMIN, password, home / "serve.log")
    console.hrsync("createadmin", ADMIN, "--password-env", "HRSYNC_ADMIN_PASSWORD")
    with console.log.open("wb") as log:
        process = subprocess.Popen(
            [HRSYNC, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_served(f"{console.url}/signin/", process, console.log)
        yield console
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def live_server_url(console: Console) -> str:
    """The served console's base URL, without a trailing slash."""
    return console.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium; a machine without it skips (fails under CI)."""
    if not CHROMIUM.exists():
        missing_server(f"{CHROMIUM} is not installed (Debian package chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) on a laptop-sized screen; screenshot on failure."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_screenshot(tab, f"FAILED-{request.node.name}")
    context.close()


@pytest.fixture
def screenshot() -> Screenshot:
    """`screenshot(page, "tickets-list")` saves the page under test-output/screenshots/."""
    return save_screenshot


@pytest.fixture
def signed_in(page: Page, console: Console) -> Page:
    """A page on the dashboard, signed in as the admin through the sign-in form."""
    sign_in(page, console.url, console.username, console.password)
    return page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep the call phase's report on the test item, so the page fixture sees a failure."""
    report = yield
    if report.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
    return report
