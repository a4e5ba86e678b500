"""The data directory is private: HRSYNC_HOME 0700, the database and the keys in it 0600.

It holds HR data (the SQLite database) and the keys that open every stored secret, so no other
user of the machine may read it. Files are made private when hrsync creates them, and every
long-running process checks them when it starts: it fixes what it owns and warns about what it
cannot (another user's files, which chmod would refuse anyway).

No Django here: the settings module calls it before Django is configured.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_FILES = (
    "hrsync.sqlite3",
    "hrsync.sqlite3-wal",
    "hrsync.sqlite3-shm",
    "queue.sqlite3",
    "queue.sqlite3-wal",
    "queue.sqlite3-shm",
    "secret_key",
    "fernet.keys",
)
"""What hrsync keeps in the data directory that must stay private (the queue holds job ids
only, but it is a database next to the other and costs nothing to close)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A path whose mode lets others in: fixed, or left as it is because hrsync does not own it."""

    path: Path
    mode: int
    wanted: int
    is_fixed: bool


def make_private_directory(path: Path) -> None:
    """Create the data directory 0700 (parents as the umask says: they are not hrsync's)."""
    if not path.exists():
        path.mkdir(parents=True, mode=DIRECTORY_MODE)
        path.chmod(DIRECTORY_MODE)  # mkdir's mode passes through the umask


def create_private_file(path: Path) -> None:
    """Create an empty file 0600 before anything writes a secret or a database into it, so it
    is never readable by others, not even for a moment."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(descriptor)
    path.chmod(FILE_MODE)


def private_paths(home: Path) -> Iterator[tuple[Path, int]]:
    """Each private path that exists, with the mode it should have."""
    yield home, DIRECTORY_MODE
    for name in PRIVATE_FILES:
        if (home / name).exists():
            yield home / name, FILE_MODE


def secure_home(home: Path) -> list[Finding]:
    """Check the data directory, fix what this process's user owns, log the rest; what it found."""
    findings = [
        finding
        for path, wanted in private_paths(home)
        if (finding := check_path(path, wanted)) is not None
    ]
    for finding in findings:
        _log(finding)
    return findings


def check_path(path: Path, wanted: int) -> Finding | None:
    """None when no one but the owner may read, write or enter it; else the finding, fixed when
    this process's user owns the path."""
    status = path.stat()
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077 == 0:
        return None
    is_owned = status.st_uid == os.geteuid()
    if is_owned:
        path.chmod(wanted)
    return Finding(path, mode, wanted, is_owned)


def _log(finding: Finding) -> None:
    if finding.is_fixed:
        log.info(
            "made private",
            path=str(finding.path),
            was=oct(finding.mode),
            now=oct(finding.wanted),
        )
    else:
        log.warning(
            "readable by others, and owned by another user: fix it as its owner",
            path=str(finding.path),
            mode=oct(finding.mode),
            wanted=oct(finding.wanted),
        )
