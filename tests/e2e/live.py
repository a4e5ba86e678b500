"""What the browser tests share besides fixtures: the served console and page helpers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

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
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("HRSYNC_TEST_OUTPUT", ROOT / "test-output"))
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


def is_answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return int(reply.status) < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def wait_until_served(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not is_answering(url):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"hrsync serve did not answer at {url}:\n{log.read_text()}", pytrace=False)
        time.sleep(0.2)


def save_screenshot(tab: Page, name: str) -> Path:
    """Save a full-page PNG as screenshots/NAME.png under the test output directory."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


def sign_in(tab: Page, url: str, username: str, password: str) -> None:
    """Sign in through the form, the way a person does."""
    tab.goto(f"{url}/signin/")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    tab.wait_for_url(re.compile(r".*/(\?.*)?$"))
