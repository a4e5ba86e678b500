"""Log lines: JSON when asked (or when stderr is not a terminal), readable on request, with the
run, import and request ids bound, and a refused request as one line, not a traceback."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from django.contrib.auth.models import Group, User
from django.test import Client
from tests.sites import OFFLINE_CONFIG, cli_env

from hrsync.app.imports.source_import import import_source
from hrsync.app.logs import configure_logging
from hrsync.app.models import Connection, Source
from hrsync.app.request_ids import request_id_of
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
CREDENTIALS = Credentials("acme", "api", "flex-pw")


def hrsync(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(home, FLEX_PASSWORD="x", AD_PASSWORD="x")
    return subprocess.run(
        [HRSYNC, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def json_lines(stderr: str) -> list[dict[str, Any]]:
    """Every line of stderr, each of which must be a JSON object."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


@pytest.fixture
def loaded_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    config = tmp_path / "hrsync.toml"
    config.write_text(OFFLINE_CONFIG)
    assert hrsync(home, "config", "load", str(config)).returncode == 0
    return home


def test_a_failed_run_logs_json_lines_with_its_run_id(loaded_home: Path) -> None:
    done = hrsync(loaded_home, "--log-format", "json", "run", "ad")
    assert done.returncode != 0
    # The command's own error message (click's "Error: …") is the one line that is no log line.
    others = [line for line in done.stderr.splitlines() if not line.startswith("{")]
    assert [line.split(":")[0] for line in others] == ["Error"]
    lines = json_lines("\n".join(set(done.stderr.splitlines()) - set(others)))
    failed = [line for line in lines if line.get("event") == "run failed"]
    assert len(failed) == 1
    assert failed[0]["level"] == "warning"
    assert failed[0]["connection"] == "ad"
    assert isinstance(failed[0]["run_id"], int)
    assert failed[0]["timestamp"].endswith("Z")


def test_console_format_is_readable_text(loaded_home: Path) -> None:
    done = hrsync(loaded_home, "--log-format", "console", "run", "ad")
    line = next(line for line in done.stderr.splitlines() if "run failed" in line)
    assert not line.startswith("{")
    assert "run_id=" in line and "connection=ad" in line


def test_the_log_format_option_is_checked(loaded_home: Path) -> None:
    done = hrsync(loaded_home, "--log-format", "xml", "run", "ad")
    assert done.returncode == 2
    assert "'xml' is not one of" in done.stderr


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Logging configured as `hrsync --log-format json` does it, into a buffer; put back after."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    yield stream
    root.handlers, root.level = handlers, level
    structlog.configure(**config)


@pytest.mark.django_db
def test_a_refused_request_is_one_warning_line_with_path_user_reason_and_request_id(
    log_stream: io.StringIO,
) -> None:
    viewer = Client()
    viewer.force_login(client_user("viewer"))
    response = viewer.get("/channels/new/", HTTP_X_REQUEST_ID="req-from-the-proxy-1")
    assert response.status_code == 403
    assert response["X-Request-ID"] == "req-from-the-proxy-1"
    output = log_stream.getvalue()
    assert "Traceback" not in output
    (line,) = [line for line in json_lines(output) if line.get("logger") == "django.request"]
    assert line == line | {
        "event": "forbidden",
        "level": "warning",
        "path": "/channels/new/",
        "user": "viewer",
        "reason": "this needs the admin role",
        "status_code": 403,
        "request_id": "req-from-the-proxy-1",
    }


def client_user(role: str) -> User:
    user = User.objects.create_user(role)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize(
    ("given", "is_kept"),
    [("req-from-the-proxy-1", True), ("short", False), ("a b\ninjected", False), ("x" * 65, False)],
)
def test_only_a_well_formed_request_id_is_kept(given: str, is_kept: bool) -> None:
    made = request_id_of(given)
    assert (made == given) is is_kept
    assert len(made) <= 64 and "\n" not in made


@pytest.fixture
def flex(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlexSimulator]:
    sim = FlexSimulator(generate_dataset(count=5, seed=3), credentials=CREDENTIALS)
    sim.start()
    monkeypatch.setenv("FLEX_PW", CREDENTIALS.password)
    yield sim
    sim.stop()


@pytest.mark.django_db(transaction=True)
def test_lines_logged_during_an_import_carry_its_import_id(
    flex: FlexSimulator, log_stream: io.StringIO, settings: Any
) -> None:
    # The queue is stopped: the on-change run the import queues cannot be sent, and the queue
    # module's warning about it, which knows nothing of imports, names the import anyway.
    settings.HRSYNC_QUEUE_URL = "redis://127.0.0.1:9/0"
    source_settings = {"url": flex.url, "instance": "acme", "username": "api"}
    source = Source.objects.create(
        key="flex", kind="flexhrm", settings=source_settings | {"password_env": "FLEX_PW"}
    )
    Connection.objects.create(
        key="fw", source=source, kind="csv", state=Connection.State.ACTIVE, schedule="on-change"
    )
    import_source("flex", with_tickets=False)
    record = source.imports.get()
    unsent = [
        line
        for line in json_lines(log_stream.getvalue())
        if line["event"].startswith("job not sent")
    ]
    assert unsent and all(line["import_id"] == record.pk for line in unsent)
    assert structlog.contextvars.get_contextvars() == {}  # unbound when the import returned
