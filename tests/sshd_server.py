"""Fixtures of the OpenSSH sshd on loopback (hrsync.testing.sshd), for SFTP delivery and pickup.

    def test_x(sftp_settings: SftpSettings, sshd: SshServer) -> None:
        SftpDrop(sftp_settings).put("a.csv", b"...")  # in sshd.root / sftp_settings.remote_dir

A machine without sshd skips these tests, or fails them with HRSYNC_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from hrsync.connectors.files.sftp import SftpSettings
from hrsync.testing.sshd import SshdUnavailable, SshServer, start_sshd
from tests.servers import missing_server


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshServer]:
    """One sshd per test module (it starts in a fraction of a second, but needs no more)."""
    try:
        with start_sshd() as server:
            yield server
    except SshdUnavailable as error:
        missing_server(str(error))


@pytest.fixture
def sftp_settings(sshd: SshServer) -> SftpSettings:
    """Settings for a remote directory of this test's own, logging in with the client key;
    one quick retry, so a test of a lost connection does not wait."""
    remote_dir = f"t{uuid.uuid4().hex[:10]}"
    (sshd.root / remote_dir).mkdir()
    return SftpSettings(
        host=sshd.host,
        port=sshd.port,
        username=sshd.user,
        key_file=str(sshd.client_key),
        host_key_sha256=sshd.host_key_sha256,
        remote_dir=remote_dir,
        connect_timeout_seconds=5,
        timeout_seconds=10,
        max_retries=1,
        backoff_seconds=0.01,
    )
