"""A drop on an SFTP server (paramiko): the host key checked against a pinned fingerprint before
anything is sent, uploads renamed into place, retries with back-off on a lost connection.

Every operation opens its own session (connect, check the host key, log in, work, close), so a
retry starts from a clean connection and nothing stays open between runs. Errors are SftpErrors
(hrsync.connectors.files.sftp_errors); after the retries a lost connection is a TransientError.
"""

from __future__ import annotations

import base64
import hashlib
import io
import posixpath
import random
import socket
import stat
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import paramiko
import structlog
from paramiko.sftp import CMD_INIT, CMD_VERSION

from hrsync.connectors.files.drop import PART, PROCESSED
from hrsync.connectors.files.sftp_errors import (
    FAILURES,
    SftpAuthError,
    SftpError,
    SftpHostKeyError,
    SftpNotFoundError,
    translate,
)
from hrsync.connectors.files.sftp_settings import CREDENTIALS, SftpSettings
from hrsync.domain.errors import TransientError

log = structlog.get_logger(__name__)
T = TypeVar("T")

POSIX_RENAME = "posix-rename@openssh.com"
"""OpenSSH's rename that replaces an existing file in one step (PROTOCOL §4.3)."""
SFTP_VERSION = 3
WINDOW_BYTES = 8 * 1024 * 1024
"""Our receive window: large, so a download (a CSV source's pickup) is not stalled waiting for
window adjustments; an upload is paced by the server's window, not ours."""
MAX_PACKET_BYTES = 32 * 1024
"""The largest SSH packet we accept on the channel: OpenSSH's own default for a session
(CHAN_SES_PACKET_DEFAULT), so a server never has to split what it sends."""
MAX_DELAY_SECONDS = 60.0


def fingerprint_of(key: paramiko.PKey) -> str:
    """The key's SHA256 fingerprint in OpenSSH's spelling (unpadded base64)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def fingerprint(host: str, port: int = 22, timeout: float = 15.0) -> str:
    """The fingerprint of the key the server at host:port presents, without logging in: for
    "Test connection" to show, so an admin can confirm it before pinning it."""
    where = f"sftp://{host}:{port}"
    try:
        with _transport(host, port, timeout) as transport:
            return fingerprint_of(transport.get_remote_server_key())
    except FAILURES as error:
        raise translate(error, where, "read the host key") from error


class SftpDrop:
    """A directory on an SFTP server; see hrsync.connectors.files.drop.Drop for the contract.

    `sleep` is the back-off's clock, injectable so tests need not wait."""

    def __init__(self, settings: SftpSettings, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._sleep = sleep

    def describe(self) -> str:
        return self.settings.where

    def put(self, name: str, content: bytes) -> None:
        """Upload to NAME.part, check its size, then rename it over NAME: a connection lost
        halfway leaves at most NAME.part, never half a file under the name a reader takes."""

        def upload(client: _SftpClient) -> None:
            part, final = self._path(name + PART), self._path(name)
            # putfo pipelines its 32 KB writes (set_pipelined: no wait for each ack) and, with
            # confirm, stats the result. Larger write requests and other ciphers measured no
            # faster against OpenSSH on loopback (bench/sftp_upload.py): the server's window
            # and packet size pace an upload, not ours.
            client.putfo(io.BytesIO(content), part, file_size=len(content), confirm=True)
            _replace(client, part, final)

        self._retrying(f"upload {name}", upload)
        log.info("sftp.put", where=self.describe(), file=name, size=len(content))

    def put_file(self, name: str, path: Path) -> None:
        """`put` of a local file, streamed from disk (a file of 100,000 rows is never held in
        memory), by way of NAME.part and a rename the same way."""
        size = path.stat().st_size

        def upload(client: _SftpClient) -> None:
            part, final = self._path(name + PART), self._path(name)
            with path.open("rb") as source:
                client.putfo(source, part, file_size=size, confirm=True)
            _replace(client, part, final)

        self._retrying(f"upload {name}", upload)
        log.info("sftp.put", where=self.describe(), file=name, size=size)

    def names(self) -> list[str]:
        def listing(client: _SftpClient) -> list[str]:
            entries = client.listdir_attr(self.settings.remote_dir)
            return sorted(
                e.filename
                for e in entries
                if stat.S_ISREG(e.st_mode or 0) and not e.filename.endswith(PART)
            )

        return self._retrying("list the directory", listing)

    def read(self, name: str) -> bytes:
        def download(client: _SftpClient) -> bytes:
            out = io.BytesIO()
            client.getfo(self._path(name), out, prefetch=True)
            return out.getvalue()

        return self._retrying(f"read {name}", download)

    def move_to_processed(self, name: str) -> None:
        def move(client: _SftpClient) -> None:
            processed = self._path(PROCESSED)
            if not _is_dir(client, processed):
                client.mkdir(processed)
            _replace(client, self._path(name), posixpath.join(processed, name))

        self._retrying(f"move {name} to {PROCESSED}/", move)

    def check(self) -> str:
        """ "Test connection": log in, find the remote directory and write (then remove) a probe
        file in it; what was found, in words, with the server's fingerprint."""

        def probe(client: _SftpClient) -> str:
            remote_dir = self.settings.remote_dir
            if not _is_dir(client, remote_dir):
                raise SftpNotFoundError(
                    f"{self.describe()}: the remote directory {remote_dir!r} does not exist"
                )
            test_file = self._path(f".hrsync-check-{uuid.uuid4().hex[:8]}{PART}")
            client.putfo(io.BytesIO(b"hrsync"), test_file, confirm=True)
            client.remove(test_file)
            return remote_dir

        remote_dir = self._retrying("check the remote directory", probe)
        return (
            f"Logged in to {self.settings.host}:{self.settings.port} as {self.settings.username}; "
            f"the server's host key {self.settings.host_key_sha256} is the pinned one; "
            f"the remote directory {remote_dir!r} is writable"
        )

    def _path(self, name: str) -> str:
        return posixpath.join(self.settings.remote_dir, name)

    def _retrying(self, action: str, work: Callable[[_SftpClient], T]) -> T:
        """`work` in a fresh session, again after a back-off while the failure is transient."""
        attempt = 0
        while True:
            try:
                with _session(self.settings) as client:
                    return work(client)
            except FAILURES as error:
                failure = translate(error, self.describe(), action)
                if not isinstance(failure, TransientError) or attempt >= self.settings.max_retries:
                    raise _final(failure, attempt + 1) from error
            log.warning("sftp.retry", where=self.describe(), attempt=attempt + 1, reason=failure)
            self._sleep(self._delay(attempt))
            attempt += 1

    def _delay(self, attempt: int) -> float:
        """Exponential back-off with jitter (half fixed, half random), capped at a minute."""
        ceiling = min(MAX_DELAY_SECONDS, self.settings.backoff_seconds * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _final(failure: SftpError, attempts: int) -> SftpError:
    if isinstance(failure, TransientError) and attempts > 1:
        return type(failure)(f"{failure}; gave up after {attempts} attempts")
    return failure


class _SftpClient(paramiko.SFTPClient):
    """paramiko's client, keeping the extensions the server announces in its VERSION packet
    (draft-ietf-secsh-filexfer-02 §4), which paramiko reads and drops: hrsync asks whether
    posix-rename is there."""

    extensions: frozenset[str] = frozenset()

    def _send_version(self) -> int:
        message = paramiko.Message()
        message.add_int(SFTP_VERSION)
        self._send_packet(CMD_INIT, message)  # type: ignore[attr-defined]
        kind, data = self._read_packet()  # type: ignore[attr-defined]
        if kind != CMD_VERSION:
            raise paramiko.SFTPError("Incompatible sftp protocol")
        self.extensions = frozenset(_extension_names(data[4:]))
        version: int = struct.unpack(">I", data[:4])[0]
        return version


def _extension_names(data: bytes) -> Iterator[str]:
    """The names of the (name, data) string pairs following the version number."""
    at = 0
    while at + 4 <= len(data):
        (size,) = struct.unpack(">I", data[at : at + 4])
        name = data[at + 4 : at + 4 + size]
        at += 4 + size
        (size,) = struct.unpack(">I", data[at : at + 4]) if at + 4 <= len(data) else (0,)
        at += 4 + size
        yield name.decode("ascii", errors="replace")


def _replace(client: _SftpClient, source: str, target: str) -> None:
    """Rename `source` over `target`. Plain SFTP rename refuses an existing target, so without
    posix-rename the old file is removed first (a reader may then briefly find no file, but
    never a partial one)."""
    if POSIX_RENAME in client.extensions:
        client.posix_rename(source, target)
        return
    with suppress(FileNotFoundError):
        client.remove(target)
    client.rename(source, target)


def _is_dir(client: _SftpClient, path: str) -> bool:
    try:
        return stat.S_ISDIR(client.stat(path).st_mode or 0)
    except FileNotFoundError:
        return False


@contextmanager
def _transport(host: str, port: int, timeout: float) -> Iterator[paramiko.Transport]:
    """An SSH transport with its key exchange done and nobody logged in yet."""
    sock = socket.create_connection((host, port), timeout=timeout)
    transport = paramiko.Transport(
        sock, default_window_size=WINDOW_BYTES, default_max_packet_size=MAX_PACKET_BYTES
    )
    transport.banner_timeout = timeout
    transport.auth_timeout = timeout
    stalled = f"the server did not complete the SSH handshake in {timeout:g} s"
    try:
        try:
            transport.start_client(timeout=timeout)
        except paramiko.SSHException as error:
            # No banner within banner_timeout: the same stall, seen one step earlier.
            if "banner" not in str(error):
                raise
            raise TimeoutError(stalled) from error
        if transport.host_key is None:
            # start_client returns quietly when its timeout passes mid key exchange.
            raise TimeoutError(stalled)
        yield transport
    finally:
        transport.close()
        sock.close()


@contextmanager
def _session(settings: SftpSettings) -> Iterator[_SftpClient]:
    """A logged-in SFTP session, the host key checked first: no credential goes to a server
    that is not the pinned one."""
    with _transport(settings.host, settings.port, settings.connect_timeout_seconds) as transport:
        _verify_host_key(transport.get_remote_server_key(), settings)
        _authenticate(transport, settings)
        client = _SftpClient.from_transport(transport, WINDOW_BYTES, MAX_PACKET_BYTES)
        if client is None:
            raise paramiko.SSHException("the server opened no SFTP channel")
        channel = client.get_channel()
        if channel is not None:
            channel.settimeout(settings.timeout_seconds)
        with client:
            yield client


def _verify_host_key(key: paramiko.PKey, settings: SftpSettings) -> None:
    found = fingerprint_of(key)
    if found != settings.host_key_sha256:
        raise SftpHostKeyError(
            f"{settings.where}: the server's host key is {found} ({key.get_name()}), not the "
            f"pinned {settings.host_key_sha256}: nothing was sent. If the server's key was "
            "changed on purpose, confirm the new fingerprint with its admin and set "
            "host_key_sha256 to it; otherwise something else answers at that address"
        )


def _authenticate(transport: paramiko.Transport, settings: SftpSettings) -> None:
    """Log in with the one credential given; the message names which, never its value."""
    try:
        if settings.password is not None:
            transport.auth_password(settings.username, settings.password.get_secret_value())
        else:
            transport.auth_publickey(settings.username, _private_key(settings))
    except paramiko.AuthenticationException as error:
        used = next(name for name in CREDENTIALS if getattr(settings, name) is not None)
        raise SftpAuthError(
            f"{settings.where}: the server refused user {settings.username!r} with the "
            f"{used.replace('_', ' ')} given ({type(error).__name__}: {error})"
        ) from error


KEY_TYPES: tuple[type[paramiko.PKey], ...] = (
    paramiko.Ed25519Key,
    paramiko.ECDSAKey,
    paramiko.RSAKey,
)


def _private_key(settings: SftpSettings) -> paramiko.PKey:
    if settings.key_file is not None:
        try:
            return paramiko.PKey.from_path(settings.key_file)
        except (OSError, ValueError, paramiko.SSHException) as error:
            raise SftpAuthError(
                f"{settings.where}: key_file {settings.key_file} cannot be read as a private "
                f"key ({type(error).__name__})"
            ) from error
    assert settings.private_key is not None  # one credential, and it is not the password
    text = settings.private_key.get_secret_value()
    for key_type in KEY_TYPES:
        try:
            return key_type.from_private_key(io.StringIO(text))
        except (ValueError, paramiko.SSHException):
            continue
    raise SftpAuthError(f"{settings.where}: the private key given is not one paramiko can read")
