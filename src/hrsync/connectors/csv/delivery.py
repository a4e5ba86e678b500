"""Where a CSV target's file goes: the Drop its settings name (a folder or an SFTP directory),
and "Test connection" for it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hrsync.connectors.csv.config import CsvConfig
from hrsync.connectors.files.drop import Drop, FolderDrop
from hrsync.connectors.files.sftp_settings import SftpSettings
from hrsync.domain.errors import TargetError


def csv_secret_setting(settings: Mapping[str, Any]) -> str:
    """Which setting the connection's secret fills (hrsync.app wiring): over SFTP without
    key_file or key_env, the password, or the private key's text with `auth = "key"`; a folder
    needs none ("")."""
    if settings.get("delivery") != "sftp" or settings.get("key_file") or settings.get("key_env"):
        return ""
    return "private_key" if settings.get("auth") == "key" else "password"


def open_drop(config: CsvConfig) -> Drop:
    """The drop of `config.delivery`; nothing is connected until a file is put."""
    if config.delivery == "sftp":
        # paramiko is loaded only by a connection that delivers over SFTP.
        from hrsync.connectors.files.sftp import SftpDrop  # noqa: PLC0415

        return SftpDrop(sftp_settings(config))
    assert config.folder is not None  # the config's validator guarantees it
    return FolderDrop(config.folder)


def sftp_settings(config: CsvConfig) -> SftpSettings:
    """The SFTP settings of a CSV target, with its one credential resolved."""
    return config.sftp_settings()


def check_drop(drop: Drop) -> str:
    """ "Test connection" for the drop: what was found, in words; TargetError when the file
    could not be delivered there."""
    if (check := getattr(drop, "check", None)) is not None:  # an SftpDrop: logs in and probes
        return str(check())
    if isinstance(drop, FolderDrop):
        return _check_folder(drop.folder)
    return drop.describe()


def _check_folder(folder: Path) -> str:
    if not folder.is_dir():
        raise TargetError(f"folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise TargetError(f"folder {folder} is not writable by hrsync")
    return f"{folder} is a folder"


def unpinned_server_key(settings: Mapping[str, Any]) -> str | None:
    """For an SFTP delivery whose server key is not pinned yet: the key the server presents,
    for the admin to confirm with the server's admin and pin. None otherwise."""
    host = str(settings.get("host") or "").strip()
    if settings.get("delivery") != "sftp" or not host or settings.get("host_key_sha256"):
        return None
    from hrsync.connectors.files.sftp import fingerprint  # noqa: PLC0415 (paramiko)

    port = int(settings.get("port") or 22)
    found = fingerprint(host, port, timeout=15)
    return (
        f"{host}:{port} presents the host key {found}. Confirm it with the server's admin "
        "(ssh-keyscan, or their records), then paste it into Server key fingerprint to pin it."
    )
