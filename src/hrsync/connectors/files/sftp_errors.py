"""SFTP failures, translated from paramiko and socket exceptions into the engine's TargetErrors.

TargetError                       (hrsync.domain.errors)
└── SftpError                     every SFTP failure; the message names the server and the step
    ├── SftpUnavailableError      TransientError: refused, reset, timed out, even after retries
    ├── SftpHostKeyError          RejectedError: the server's key is not the pinned one
    ├── SftpAuthError             RejectedError: the user, key or password was refused
    ├── SftpAccessError           RejectedError: the account may not read or write there
    └── SftpNotFoundError         NotFoundError: the remote directory or file does not exist

A CSV source's pickup (which reads through the same Drop) turns these into SourceErrors itself.
"""

from __future__ import annotations

import socket

import paramiko
from paramiko.ssh_exception import IncompatiblePeer

from hrsync.domain.errors import NotFoundError, RejectedError, TargetError, TransientError


class SftpError(TargetError):
    """An SFTP step failed. The message is meant for an admin and never carries a secret."""


class SftpUnavailableError(SftpError, TransientError):
    pass


class SftpHostKeyError(SftpError, RejectedError):
    pass


class SftpAuthError(SftpError, RejectedError):
    pass


class SftpAccessError(SftpError, RejectedError):
    pass


class SftpNotFoundError(SftpError, NotFoundError):
    pass


FAILURES = (OSError, EOFError, paramiko.SSHException)
"""What paramiko and the socket raise; anything else is a bug and is not translated."""


def translate(error: BaseException, where: str, action: str) -> SftpError:
    """The SftpError for `error` (an OSError, EOFError or SSHException), raised while doing
    `action` ("put users.csv") at `where` ("sftp://acme@host:22/upload"). Unavailable means a
    later attempt may succeed."""
    if isinstance(error, SftpError):
        return error
    if isinstance(error, paramiko.AuthenticationException):
        return SftpAuthError(f"{where}: the server refused the login ({_reason(error)})")
    if isinstance(error, FileNotFoundError):
        return SftpNotFoundError(f"{where}: {action}: no such file or directory")
    if isinstance(error, PermissionError):
        return SftpAccessError(f"{where}: {action}: permission denied")
    if isinstance(error, IncompatiblePeer):
        return SftpError(f"{where}: no algorithm in common with the server ({_reason(error)})")
    if isinstance(error, socket.gaierror):
        # Not retried: a name that does not resolve is a typo far more often than a DNS outage.
        return SftpError(f"{where}: the host name does not resolve ({_reason(error)})")
    return SftpUnavailableError(f"{where}: {action}: {_network_reason(error)}")


def _network_reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "the connection was refused (is the SFTP server running on that port?)"
    if isinstance(error, TimeoutError | socket.timeout):
        return f"timed out ({error})" if str(error) else "timed out"
    if isinstance(error, ConnectionError | EOFError):
        return f"the connection was lost ({_reason(error)})"
    return _reason(error)


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
