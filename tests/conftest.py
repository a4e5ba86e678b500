"""Shared fixtures: real servers on loopback (a throwaway Samba AD DC) and targets bound to them.

A missing server skips its tests on a developer machine; with HRSYNC_REQUIRE_SERVERS=1 (CI) it
fails them instead, so nothing is silently skipped there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.testing.samba import SambaDC, samba_available
from tests.servers import missing_server

# The SCIM servers, the HTTP fault proxy and sshd, for any test that asks.
pytest_plugins = ["tests.scim_servers", "tests.sshd_server"]


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    """A fresh Samba AD domain on a loopback address, for the whole session."""
    if not samba_available():
        missing_server("samba and samba-tool are not installed (Debian package samba-ad-dc)")
    if os.geteuid() != 0:
        missing_server("the Samba AD DC runs as root (it binds LDAP ports 389 and 636)")
    dc = SambaDC.provision(tmp_path_factory.mktemp("samba") / "dc")
    dc.start()
    try:
        dc.wait_ready(timeout=60)
        yield dc
    finally:
        dc.stop()


@pytest.fixture
def ad_config(samba_dc: SambaDC) -> ActiveDirectoryConfig:
    """LDAPS with certificate verification on, scoped to a users OU of its own."""
    return ActiveDirectoryConfig(
        url=samba_dc.url,
        ca_file=str(samba_dc.ca_file),
        bind_dn=samba_dc.bind_dn,
        password=samba_dc.admin_password,
        base_dn=samba_dc.base_dn,
        users_ou=f"OU=t{uuid.uuid4().hex[:12]},{samba_dc.base_dn}",
        upn_suffix=samba_dc.realm.lower(),
    )


@pytest.fixture
def ad_target(ad_config: ActiveDirectoryConfig) -> Iterator[ActiveDirectoryTarget]:
    """A target whose users OU exists; the OU and everything in it is deleted afterwards."""
    target = ActiveDirectoryTarget(ad_config)
    target.ensure_users_ou()
    try:
        yield target
    finally:
        target.close()
        cleanup = DirectoryClient(ad_config)
        cleanup.delete(ad_config.users_ou_dn, with_subtree=True)
        cleanup.close()


@pytest.fixture(scope="module")
def admin_directory(samba_dc: SambaDC) -> Iterator[DirectoryClient]:
    """The domain administrator's own client, for tests that set up and inspect the directory."""
    admin = ActiveDirectoryConfig(
        url=samba_dc.url,
        ca_file=str(samba_dc.ca_file),
        bind_dn=samba_dc.bind_dn,
        password=samba_dc.admin_password,
        base_dn=samba_dc.base_dn,
        users_ou=samba_dc.base_dn,
        upn_suffix=samba_dc.realm.lower(),
    )
    directory = DirectoryClient(admin)
    yield directory
    directory.close()
