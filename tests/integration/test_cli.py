"""The command line on its own: config load is idempotent and refuses what it must."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.sites import OFFLINE_CONFIG, cli_env

HRSYNC = str(Path(sys.executable).with_name("hrsync"))

CONFIG = OFFLINE_CONFIG


def hrsync(home: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(home, **extra_env)
    return subprocess.run([HRSYNC, *args], env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_loading_the_same_config_twice_changes_nothing(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "hrsync.toml"
    path.write_text(CONFIG)
    first = hrsync(home, "config", "load", str(path))
    assert first.returncode == 0, first.stderr
    assert "created: sources.flex, connections.ad" in first.stdout
    second = hrsync(home, "config", "load", str(path))
    assert "unchanged: sources.flex, connections.ad" in second.stdout
    path.write_text(CONFIG.replace('upn_suffix = "example.test"', 'upn_suffix = "acme.se"'))
    third = hrsync(home, "config", "load", str(path))
    assert "updated: connections.ad" in third.stdout


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('password_env = "FLEX_PASSWORD"', 'password = "hunter2"'), "password_env"),
        (('type = "flexhrm"', 'type = "workday"'), "unknown type 'workday'"),
        (('source = "flex"', 'source = "afas"'), "unknown source 'afas'"),
        (('url = "http://127.0.0.1:9/api/"', 'url = "ftp://x/api/"'), "sources.flex: url"),
        (('base_dn = "DC=example,DC=test"', "base_dn = 5"), "connections.ad"),
        (('username = "api"', 'username = "api"\nschedule = "on-change"'), "on-change is for"),
        (
            ('upn_suffix = "example.test"', 'upn_suffix = "x"\nschedule = "whenever"'),
            "connections.ad.schedule",
        ),
        (
            (
                'upn_suffix = "example.test"',
                'upn_suffix = "x"\n[connections.ad.safety]\nmax_disable = 3',
            ),
            "connections.ad.safety.max_disable: Extra inputs are not permitted",
        ),
        (
            (
                'upn_suffix = "example.test"',
                'upn_suffix = "x"\n[connections.ad.safety.move]\npercent = 120',
            ),
            "connections.ad.safety.move.percent: Input should be less than or equal to 100",
        ),
        (
            (
                'upn_suffix = "example.test"',
                'upn_suffix = "x"\n[connections.ad.safety.retire_group]\ncount = -1',
            ),
            "connections.ad.safety.retire_group.count: Input should be greater than or equal to 0",
        ),
        (
            (
                'upn_suffix = "example.test"',
                'upn_suffix = "x"\n[connections.ad.naming]\nupn_on_rename = "always"',
            ),
            'connections.ad.naming.upn_on_rename: "keep" or "follow", not \'always\'',
        ),
        (
            ('username = "api"', 'username = "api"\n[sources.flex.shrink_guard]\ncount = -1'),
            "sources.flex.shrink_guard.count: Input should be greater than or equal to 0",
        ),
    ],
)
def test_a_bad_config_is_refused_with_a_clear_message(
    home: Path, tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = tmp_path / "hrsync.toml"
    path.write_text(CONFIG.replace(*edit))
    done = hrsync(home, "config", "load", str(path))
    assert done.returncode != 0
    assert message in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_missing_secret_and_an_unreachable_source_are_plain_errors(
    home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "hrsync.toml"
    path.write_text(CONFIG)
    hrsync(home, "config", "load", str(path))
    done = hrsync(home, "run", "ad")
    assert done.returncode != 0 and "AD_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr
    unknown = hrsync(home, "run", "nope")
    assert unknown.returncode != 0 and "not configured" in unknown.stderr


def test_an_unreachable_directory_is_simulated_against_an_empty_one(
    home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "hrsync.toml"
    path.write_text(CONFIG)
    hrsync(home, "config", "load", str(path))
    done = hrsync(home, "run", "ad", "--simulate", "--json", AD_PASSWORD="x")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "simulated"
    assert any("could not be reached" in note for note in result["notes"])


def test_schedules_and_state_are_loaded_from_the_config(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "hrsync.toml"
    config = CONFIG.replace('username = "api"', 'username = "api"\nschedule = "*/2 * * * *"')
    config = config.replace(
        'upn_suffix = "example.test"',
        'upn_suffix = "example.test"\nschedule = "on-change"\nstate = "active"',
    )
    path.write_text(config)
    done = hrsync(home, "config", "load", str(path))
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        [sys.executable, "-c", SHOW_SCHEDULES],
        env={**os.environ, "HRSYNC_HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.split() == ["*/2", "*", "*", "*", "*", "on-change", "active"]


SHOW_SCHEDULES = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
django.setup()
from hrsync.app.models import Connection, Source
c = Connection.objects.get(key="ad")
print(Source.objects.get(key="flex").schedule, c.schedule, c.state)
"""
