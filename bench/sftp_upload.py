"""SFTP upload: the same CSV file (~18 MB, 100,000 Flexwhere rows) put to the same local sshd by
hrsync's SftpDrop and by OpenSSH's own `sftp -b` batch client, best of 3 each, in the same run.
Goal: hrsync reaches at least half of sftp's throughput.

Both timings include what a delivery costs end to end: connect, key exchange, log in, upload
(SftpDrop also its .part rename). `python -m bench.sftp_upload` starts an sshd and prints them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hrsync.connectors.csv.formats import FLEXWHERE
from hrsync.connectors.csv.writer import render
from hrsync.connectors.files.sftp import SftpDrop, SftpSettings
from hrsync.testing.sshd import SshServer, start_sshd

GOAL_RATIO = 0.5
"""hrsync's throughput over sftp's, at least."""
ATTEMPTS = 3
SFTP_CLIENT = "sftp"


def measure_upload(server: SftpSettings | SshServer, path: Path) -> dict[str, float]:
    """Upload `path` with SftpDrop and with `sftp -b` to `server` (SftpSettings with key_file
    or private_key, as `sftp -b` cannot type a password; or a running hrsync.testing.sshd
    server), best of ATTEMPTS each: seconds, MB/s and hrsync's throughput over sftp's."""
    settings = server if isinstance(server, SftpSettings) else settings_of(server)
    size_mb = path.stat().st_size / 1_000_000
    drop = SftpDrop(settings)
    # As a delivery sends it: streamed from the file in the data directory.
    hrsync_s = _best_of(lambda: drop.put_file("hrsync-" + path.name, path))
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-sftp-") as tmp:
        batch = _batch_file(Path(tmp), settings, path)
        command = _sftp_command(settings, _key_file(Path(tmp), settings), batch)
        sftp_s = _best_of(lambda: subprocess.run(command, check=True, capture_output=True))
    hrsync_mb_s, sftp_mb_s = size_mb / hrsync_s, size_mb / sftp_s
    return {
        "sftp_file_mb": size_mb,
        "sftp_hrsync_s": hrsync_s,
        "sftp_client_s": sftp_s,
        "sftp_hrsync_mb_s": hrsync_mb_s,
        "sftp_client_mb_s": sftp_mb_s,
        "sftp_ratio": hrsync_mb_s / sftp_mb_s,
    }


def _best_of(upload: Callable[[], object]) -> float:
    timings = []
    for _ in range(ATTEMPTS):
        started = time.perf_counter()
        upload()
        timings.append(time.perf_counter() - started)
    return min(timings)


def _batch_file(tmp: Path, settings: SftpSettings, path: Path) -> Path:
    batch = tmp / "batch"
    remote = f"{settings.remote_dir}/sftp-{path.name}"
    batch.write_text(f'put "{path}" "{remote}"\n', encoding="utf-8")
    return batch


def _key_file(tmp: Path, settings: SftpSettings) -> str:
    """The key file `sftp -i` needs: the settings' own, or the key text written to one."""
    if settings.key_file is not None:
        return settings.key_file
    if settings.private_key is None:
        raise ValueError("sftp -b logs in with a key only: give key_file or private_key")
    key = tmp / "key"
    key.write_text(settings.private_key.get_secret_value(), encoding="utf-8")
    key.chmod(0o600)
    return str(key)


def _sftp_command(settings: SftpSettings, key_file: str, batch: Path) -> list[str]:
    # Host key checking off for OpenSSH's client only: a loopback server made for this run, and
    # hrsync's side pins the same key anyway.
    return [
        SFTP_CLIENT,
        "-b",
        str(batch),
        "-i",
        key_file,
        "-P",
        str(settings.port),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        f"{settings.username}@{settings.host}",
    ]


def write_flexwhere_file(path: Path, count: int = 100_000) -> Path:
    """A Flexwhere users file of `count` rows (~18 MB at 100,000)."""
    rows = (
        {
            "CSV_USERNAME": f"anna.person{n}@example.test",
            "CSV_FIRSTNAME": "Anna",
            "CSV_SURNAME": f"Person{n}",
            "CSV_DISPLAYNAME": f"Person{n}, Anna"[:20],
            "CSV_TITLE": "Ekonomiassistent",
            "CSV_PHONE": "+46 8-123 45 67",
            "CSV_MOBILE": "070-123 45 67",
            "CSV_DEPARTMENT": "Finance",
            "CSV_EMAIL": f"anna.person{n}@example.test",
            "CSV_EHBO": "0",
            "CSV_BHV": "0",
        }
        for n in range(count)
    )
    path.write_bytes(render(FLEXWHERE, rows))
    return path


def settings_of(server: SshServer) -> SftpSettings:
    """SftpSettings logging in to a test sshd with its client key, into its upload directory."""
    return SftpSettings(
        host=server.host,
        port=server.port,
        username=server.user,
        key_file=str(server.client_key),
        host_key_sha256=server.host_key_sha256,
        remote_dir=server.remote_dir,
    )


def run() -> dict[str, float]:
    """Start an sshd, write the file, measure both clients."""
    with start_sshd() as server, tempfile.TemporaryDirectory(prefix="hrsync-bench-") as tmp:
        return measure_upload(server, write_flexwhere_file(Path(tmp) / FLEXWHERE.file_name))


if __name__ == "__main__":
    figures = run()
    for name, value in figures.items():
        print(f"{name:<20}{value:>10.2f}")
    print(f"goal: sftp_ratio >= {GOAL_RATIO}")
    sys.exit(0 if figures["sftp_ratio"] >= GOAL_RATIO else 1)
