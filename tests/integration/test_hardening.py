"""Security settings as an operator deploys hrsync (issue 17): behind a TLS proxy with secure
cookies, signing in works for the proxy's origin and not for another; every page showing HR
data is `no-store`; sessions end with the browser and after eight idle hours; the headers a
reviewer expects are sent; a weak admin password is refused."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from click.testing import CliRunner
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client
from tests.e2e.live import HRSYNC, free_port

from hrsync.app.models import AuditEvent
from hrsync.cli import admin

PUBLIC = "hrsync.example.se"


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`hrsync serve` as the deployment guide sets it up behind a TLS proxy; (url, password)."""
    home = tmp_path_factory.mktemp("proxied")
    password = secrets.token_urlsafe(16)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "HRSYNC_HOME": str(home),
        "HRSYNC_ALLOWED_HOSTS": PUBLIC,
        "HRSYNC_SECURE_COOKIES": "1",
        "HRSYNC_BEHIND_PROXY": "1",
        "ADMIN_PW": password,
    }
    made = subprocess.run(
        [HRSYNC, "createadmin", "admin", "--password-env", "ADMIN_PW"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    port = free_port()
    log = home / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [HRSYNC, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_served_as(url, process, log)
        yield url, password
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_until_served_as(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """The console answers only to its public host name, so the wait asks as the proxy does."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/signin/", headers=proxied(), timeout=2)
            return
        except httpx.TransportError:
            assert process.poll() is None, log.read_text()
            time.sleep(0.5)
    pytest.fail(f"hrsync serve did not answer:\n{log.read_text()}")


def proxied(origin: str = f"https://{PUBLIC}") -> dict[str, str]:
    return {"Host": PUBLIC, "X-Forwarded-Proto": "https", "Origin": origin, "Referer": origin + "/"}


def sign_in(url: str, password: str, origin: str = f"https://{PUBLIC}") -> httpx.Response:
    with httpx.Client(base_url=url, headers=proxied(origin)) as client:
        page = client.get("/signin/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None, page.text
        csrf = page.cookies.get("csrftoken") or ""
        return client.post(
            "/signin/",
            data={"username": "admin", "password": password, "csrfmiddlewaretoken": token[1]},
            headers={"Cookie": f"csrftoken={csrf}"},
        )


def test_behind_a_tls_proxy_signing_in_works_from_its_origin_only(
    behind_proxy: tuple[str, str],
) -> None:
    url, password = behind_proxy
    signed_in = sign_in(url, password)
    assert signed_in.status_code == 302, signed_in.text[:500]
    (cookie,) = [c for c in signed_in.headers.get_list("set-cookie") if c.startswith("sessionid=")]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "expires" not in cookie.lower()  # a browser-session cookie: gone when it closes
    assert signed_in.headers["strict-transport-security"].startswith("max-age=31536000")
    elsewhere = sign_in(url, password, origin="https://evil.example")
    assert elsewhere.status_code == 403


@pytest.mark.django_db
def test_pages_with_hr_data_are_not_stored_and_carry_the_reviewers_headers() -> None:
    user = User.objects.create_user("viewer-1")
    user.groups.add(Group.objects.get(name="viewer"))
    client = Client()
    client.force_login(user)
    for path in ("/people/", "/", "/api/people"):
        response = client.get(path)
        assert response["Cache-Control"] == "no-store", path
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_a_session_ends_with_the_browser_and_after_eight_idle_hours() -> None:
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


@pytest.mark.parametrize("weak", ["x", "admin", "12345678901234", "password1234"])
def test_createadmin_refuses_a_weak_password(weak: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"HRSYNC_HOME": str(tmp_path), "PW": weak}
    made = subprocess.run(
        [HRSYNC, "createadmin", "admin", "--password-env", "PW"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode != 0 and "too weak" in made.stderr


def _sign_in(client: Client, password: str, address: str) -> int:
    response = client.post(
        "/signin/", {"username": "anna", "password": password}, REMOTE_ADDR=address
    )
    return int(response.status_code)


@pytest.mark.django_db
def test_eight_wrong_passwords_lock_the_user_until_an_admin_lifts_it(tmp_path: Path) -> None:
    right = secrets.token_urlsafe(16)
    User.objects.create_user("anna", password=right)
    client = Client()
    assert [_sign_in(client, "wrong", "10.0.0.1") for _ in range(7)] == [200] * 7
    assert _sign_in(client, right, "10.0.0.1") == 302  # a right password resets the count
    client.logout()
    codes = [_sign_in(client, "wrong", f"10.0.0.{n}") for n in range(2, 11)]
    assert codes[:7] == [200] * 7 and codes[-1] == 429  # by user name, from any address
    assert _sign_in(client, right, "10.0.0.99") == 429
    failed = AuditEvent.objects.filter(action="auth.signin_failed", object_key="anna")
    assert failed.count() >= 14 and "wrong" not in json.dumps([e.after for e in failed])
    assert AuditEvent.objects.filter(action="auth.locked_out", object_key="anna").exists()

    unlocked = CliRunner().invoke(admin.users, ["unlock", "anna"])
    assert unlocked.exit_code == 0, unlocked.output
    assert AuditEvent.objects.filter(action="auth.unlocked", object_key="anna").exists()
    assert _sign_in(client, right, "10.0.0.99") == 302


@pytest.mark.django_db
def test_one_address_trying_many_names_is_locked_too() -> None:
    client = Client()
    codes = [
        int(
            client.post(
                "/signin/", {"username": f"u{n}", "password": "x"}, REMOTE_ADDR="10.9.9.9"
            ).status_code
        )
        for n in range(9)
    ]
    assert codes[-1] == 429
