"""Browser fixtures: a real `hrsync serve` on loopback and Debian chromium driven by Playwright.

The console runs as its own process (waitress) with its own HRSYNC_HOME (SQLite) and an admin
made by `hrsync createadmin`. Chromium is Debian's /usr/bin/chromium: `playwright install` would
download a browser, which this project never does. Screenshots go to
$HRSYNC_TEST_OUTPUT/screenshots/ (default test-output/), and a failing test leaves one behind.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from tests.servers import missing_server

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google, which this closed
# network refuses; --no-sandbox because tests run as root in CI.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HRSYNC = str(Path(sys.executable).with_name("hrsync"))
OUTPUT = Path(os.environ.get("HRSYNC_TEST_OUTPUT", "test-output"))
SCREENSHOTS = OUTPUT / "screenshots"
ADMIN = "admin"

Screenshot = Callable[[Page, str], Path]


@dataclass(frozen=True)
class Console:
    """A served console: its URL, the admin's credentials, and the CLI on the same data."""

    url: str
    home: Path
    env: dict[str, str]
    username: str
    password: str
    log: Path

    def hrsync(self, *args: str) -> str:
        """Run `hrsync ARGS` on the console's data directory; fail the test on a non-zero exit."""
        done = subprocess.run(
            [HRSYNC, *args], env=self.env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, f"hrsync {' '.join(args)}: {done.stderr}"
        return done.stdout


def free_port() -> int:
    """A loopback port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _is_answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return int(reply.status) < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def _wait_until_served(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not _is_answering(url):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"hrsync serve did not answer at {url}:\n{log.read_text()}", pytrace=False)
        time.sleep(0.2)


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
        _wait_until_served(f"{console.url}/signin/", process, console.log)
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


def save_screenshot(tab: Page, name: str) -> Path:
    """Save a full-page PNG as screenshots/NAME.png under the test output directory."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Screenshot:
    """`screenshot(page, "tickets-list")` saves the page under test-output/screenshots/."""
    return save_screenshot


@pytest.fixture
def signed_in(page: Page, console: Console) -> Page:
    """A page on the dashboard, signed in as the admin through the sign-in form."""
    sign_in(page, console.url, console.username, console.password)
    return page


def sign_in(tab: Page, url: str, username: str, password: str) -> None:
    """Sign in through the form, the way a person does."""
    tab.goto(f"{url}/signin/")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    tab.wait_for_url(re.compile(r".*/(\?.*)?$"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep the call phase's report on the test item, so the page fixture sees a failure."""
    report = yield
    if report.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
    return report
