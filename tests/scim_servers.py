"""Fixtures of the SCIM servers on loopback (hrsync.testing.scim) and of the HTTP fault proxy.

    def test_x(scim_server: ScimServer) -> None:  # runs once on scim2-server, once on SCIMMY
    def test_y(scim_server, fault_proxy) -> None:
        proxy = fault_proxy(scim_server.url)       # point the client at proxy.url instead

A server this machine cannot run (scim2-server not installed, no node or npm) skips its tests,
or fails them with HRSYNC_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hrsync.testing.fault_proxy import FaultProxy
from hrsync.testing.scim import (
    ScimServer,
    ScimServerUnavailable,
    start_scim2_server,
    start_scimmy_server,
)
from tests.servers import missing_server

SCIM_SERVER_NAMES = ("scim2-server", "scimmy")


def _start(start: Callable[[], ScimServer]) -> ScimServer:
    try:
        return start()
    except ScimServerUnavailable as error:
        missing_server(str(error))
        raise  # missing_server() raised already; this only tells the type checker


@pytest.fixture(scope="module")
def scim2_server_process() -> Iterator[ScimServer]:
    """One scim2-server per test module; tests take a fresh tenant of it (`scim2_server`)."""
    server = _start(start_scim2_server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scim2_server(scim2_server_process: ScimServer) -> ScimServer:
    """scim2-server with an empty store of this test's own (a fresh tenant: starting a process
    takes about a second, a tenant nothing)."""
    return scim2_server_process.new_tenant()


@pytest.fixture
def scimmy_server() -> Iterator[ScimServer]:
    """A fresh SCIMMY server (Node.js) with an empty store, for this test."""
    server = _start(start_scimmy_server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=SCIM_SERVER_NAMES)
def scim_server(request: pytest.FixtureRequest) -> ScimServer:
    """Each SCIM server in turn, empty: the same test against two implementations."""
    fixture = {"scim2-server": "scim2_server", "scimmy": "scimmy_server"}[request.param]
    server: ScimServer = request.getfixturevalue(fixture)
    return server


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str], FaultProxy]]:
    """A factory: `fault_proxy(upstream_url)` is a started FaultProxy, stopped after the test."""
    proxies: list[FaultProxy] = []

    def start(upstream: str) -> FaultProxy:
        proxy = FaultProxy(upstream)
        proxy.start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()
