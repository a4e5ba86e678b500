"""A throwaway hrsync site for integration tests: a Flex HRM simulator, a Flex HRM source on it
and an AD connection to the test Samba DC, in a base OU of the test's own, stored the way the
config loader stores them. Secrets come from the environment (FLEX_PW, AD_PW)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hrsync.app.models import Connection, Source
from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.testing.samba import SambaDC

FLEX_PASSWORD = "pw"


def cli_env(home: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of an `hrsync` subprocess keeping its store in `home`: the test run's
    own DATABASE_URL is left out (the SQLite file in `home` is used) unless `database_url` names
    a database, and `extra` is added (the passwords the config's password_env names)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DATABASE_URL": database_url} if database_url else {}
    return env | {"HRSYNC_HOME": str(home), **extra}


@contextmanager
def flex_simulator(count: int, seed: int) -> Iterator[tuple[FlexSimulator, dict[str, Any]]]:
    """A running Flex HRM simulator on a generated dataset of `count` employees, and the dataset
    (its companies and employment types, for hand-made employees); stopped afterwards. It
    accepts the password stored_site gives the source."""
    dataset = generate_dataset(count=count, seed=seed)
    with FlexSimulator(dataset, credentials=Credentials("acme", "api", FLEX_PASSWORD)) as sim:
        yield sim, dataset


@contextmanager
def throwaway_ou(directory: DirectoryClient, dc: SambaDC, prefix: str) -> Iterator[str]:
    """A base OU of the test's own under the domain, deleted with everything in it afterwards."""
    base = f"OU={prefix}{uuid.uuid4().hex[:8]},{dc.base_dn}"
    directory.add(base, {"objectClass": [b"top", b"organizationalUnit"]})
    try:
        yield base
    finally:
        directory.delete(base, with_subtree=True)


def stored_site(
    sim: FlexSimulator,
    dc: SambaDC,
    base: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    source: dict[str, Any] | None = None,
    connection: dict[str, Any] | None = None,
) -> Connection:
    """Source "flex" and AD connection "ad" in the store; `source`/`connection` add settings."""
    monkeypatch.setenv("FLEX_PW", FLEX_PASSWORD)
    monkeypatch.setenv("AD_PW", dc.admin_password)
    row = Source.objects.create(
        key="flex",
        kind="flexhrm",
        settings={
            "url": sim.url,
            "instance": "acme",
            "username": "api",
            "password_env": "FLEX_PW",
            **(source or {}),
        },
    )
    return Connection.objects.create(
        key="ad",
        source=row,
        kind="active_directory",
        settings={
            "url": dc.url,
            "ca_file": str(dc.ca_file),
            "bind_dn": dc.bind_dn,
            "password_env": "AD_PW",
            "base_dn": base,
            "users_ou": f"OU=People,{base}",
            "upn_suffix": "example.test",
            **(connection or {}),
        },
    )


OFFLINE_CONFIG = """
[sources.flex]
type = "flexhrm"
url = "http://127.0.0.1:9/api/"
instance = "acme"
username = "api"
password_env = "FLEX_PASSWORD"

[connections.ad]
source = "flex"
type = "active_directory"
url = "ldaps://127.0.0.1:9"
bind_dn = "Administrator@example.test"
password_env = "AD_PASSWORD"
base_dn = "DC=example,DC=test"
users_ou = "OU=People"
upn_suffix = "example.test"
"""
"""A config file whose servers answer nowhere (port 9): for checks made when it is loaded.
Tables of the connection ([connections.ad.X]) and keys of it may be appended."""
