"""The data directory is private: made so when hrsync creates it, and checked (and fixed) when
a long-running process starts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.sites import cli_env

from hrsync.app.security.permissions import FILE_MODE, check_path, secure_home

HRSYNC = str(Path(sys.executable).with_name("hrsync"))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def hrsync(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HRSYNC, *args],
        env=cli_env(home, HRSYNC_FERNET_KEYS=""),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=0o022,  # the usual umask, which would leave new files readable by everyone
    )


def test_a_new_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = hrsync(home, "keys", "rotate")
    assert done.returncode == 0, done.stderr
    assert mode_of(home) == 0o700
    for name in ("hrsync.sqlite3", "secret_key", "fernet.keys"):
        assert mode_of(home / name) == 0o600, name
    for name in ("hrsync.sqlite3-wal", "hrsync.sqlite3-shm"):
        if (home / name).exists():  # SQLite gives them the database's mode
            assert mode_of(home / name) & 0o077 == 0, name


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(0o600, None), (0o400, None), (0o644, 0o644), (0o660, 0o660), (0o604, 0o604)],
)
def test_a_file_others_may_read_is_found_and_fixed(
    tmp_path: Path, mode: int, expected: int | None
) -> None:
    path = tmp_path / "secret_key"
    path.write_text("x")
    path.chmod(mode)
    finding = check_path(path, FILE_MODE)
    assert (finding.mode if finding else None) == expected
    assert mode_of(path) == (FILE_MODE if expected else mode)


def test_secure_home_fixes_the_directory_and_only_hrsyncs_files(tmp_path: Path) -> None:
    (tmp_path / "fernet.keys").write_text("k")
    (tmp_path / "notes.txt").write_text("not hrsync's")
    for path in (tmp_path, tmp_path / "fernet.keys", tmp_path / "notes.txt"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    findings = secure_home(tmp_path)
    assert {finding.path.name for finding in findings} == {tmp_path.name, "fernet.keys"}
    assert all(finding.is_fixed for finding in findings)  # this test's user owns them
    assert mode_of(tmp_path) == 0o700
    assert mode_of(tmp_path / "fernet.keys") == 0o600
    assert mode_of(tmp_path / "notes.txt") == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand a file to another user")
def test_a_file_owned_by_another_user_is_warned_about_not_changed(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("x")
    path.chmod(0o644)
    os.chown(path, 65534, 65534)  # nobody's now: this process may not decide for them
    finding = check_path(path, FILE_MODE)
    assert finding is not None and not finding.is_fixed
    assert mode_of(path) == 0o644


def test_the_scheduler_makes_a_loose_data_directory_private_when_it_starts(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    assert hrsync(home, "keys", "rotate").returncode == 0
    home.chmod(0o755)
    (home / "hrsync.sqlite3").chmod(0o644)
    (home / "fernet.keys").chmod(0o644)
    process = subprocess.Popen(
        [HRSYNC, "scheduler", "--interval", "60"],
        env=cli_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while mode_of(home / "fernet.keys") != 0o600 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=60)
    assert mode_of(home) == 0o700
    assert mode_of(home / "hrsync.sqlite3") == 0o600
    assert mode_of(home / "fernet.keys") == 0o600
    assert '"event": "made private"' in stderr and "fernet.keys" in stderr
