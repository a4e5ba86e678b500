"""The SCIM protocol layer against a real scim2-server on loopback, and a fault proxy before it."""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tests.servers import missing_server

from hrsync.connectors.scim.client import ScimClient, build_http_client
from hrsync.connectors.scim.compliance import check_compliance
from hrsync.connectors.scim.config import ScimConfig
from hrsync.connectors.scim.errors import (
    ScimAccessError,
    ScimConflictError,
    ScimNotFoundError,
    ScimRejectedError,
    ScimUnavailableError,
)
from hrsync.connectors.scim.patch import (
    ENTERPRISE_USER_URN,
    MANAGER_PATH,
    build_member_patch,
    build_patch,
    equals_filter,
)
from hrsync.domain.errors import AlreadyExistsError, NotFoundError, TransientError

TOKEN = "test-token-0f3a"
QUIRKS = Path(__file__).parent / "scim_quirks"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
WINNINGTEMP_URN = "urn:ietf:params:scim:schemas:extension:winningtemp:2.0:User"


# --- Local fixtures -------------------------------------------------------------------------
# LOCAL STAND-INS, to be replaced at merge by the shared ones being built on another branch
# (hrsync.testing.scim.start_scim2_server and its fault proxy). Kept small on purpose.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Scim2Server:
    """A scim2-server process; `tenant()` gives the base URL of a fresh, empty tenant."""

    url: str
    process: subprocess.Popen[bytes]

    def tenant(self) -> str:
        return f"{self.url}/t{uuid.uuid4().hex[:12]}"


def _start_scim2_server(*options: str) -> Scim2Server:
    executable = shutil.which("scim2-server", path=str(Path(sys.executable).parent))
    if executable is None:
        missing_server("scim2-server is not installed (pip install -e .[dev])")
    port = _free_port()
    command = [executable or "", "--port", str(port), "--bearer-token", TOKEN, "--dynamic-tenants"]
    process = subprocess.Popen(
        [*command, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"{url}/ServiceProviderConfig", timeout=1)
            return Scim2Server(url, process)
        except httpx2.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"scim2-server did not start on {url}")


@pytest.fixture(scope="module")
def scim2_server() -> Iterator[Scim2Server]:
    server = _start_scim2_server()
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture(scope="module")
def quirky_server() -> Iterator[Scim2Server]:
    """scim2-server with a Winningtemp-like extension and no PATCH, bulk or ETag."""
    server = _start_scim2_server(
        "--schema",
        str(QUIRKS / "winningtemp-schemas.json"),
        "--resource-type",
        str(QUIRKS / "winningtemp-resource-types.json"),
        "--service-provider-config",
        str(QUIRKS / "no-patch-service-provider-config.json"),
    )
    yield server
    server.process.terminate()
    server.process.wait(10)


@dataclass
class Fault:
    """One scripted answer: a status with headers, or a stall of `delay` seconds first."""

    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    delay: float = 0.0


class FaultProxy:
    """A stdlib HTTP proxy on loopback: answers the scripted faults first, then forwards."""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx2.URL(upstream)
        self.faults: deque[Fault] = deque()
        self.seen: list[str] = []
        self.dropped_params: set[str] = set()
        """Query parameters removed before forwarding: a server that ignores them."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.seen.append(f"{self.command} {self.path}")
                fault = proxy.faults.popleft() if proxy.faults else None
                if fault is not None:
                    time.sleep(fault.delay)
                    if fault.status:
                        return self._answer(fault.status, fault.headers, fault.body.encode())
                self._forward(body)

            def _forward(self, body: bytes) -> None:
                upstream = http.client.HTTPConnection(proxy.upstream.host, proxy.upstream.port)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                url = httpx2.URL(self.path)
                for name in proxy.dropped_params:
                    url = url.copy_remove_param(name)
                upstream.request(self.command, str(url.raw_path, "ascii"), body or None, headers)
                answer = upstream.getresponse()
                payload = answer.read()
                kept = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_HEADERS}
                upstream.close()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(answer.status, kept, payload)  # unless the client timed out

            def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{self.upstream.path}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "server", "date"}


# --- Helpers ----------------------------------------------------------------------------------


@dataclass
class Sleeps:
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def config_for(url: str, **fields: Any) -> ScimConfig:
    return ScimConfig.model_validate({"url": url, "token": TOKEN, **fields})


@pytest.fixture
def tenant(scim2_server: Scim2Server) -> str:
    return scim2_server.tenant()


@pytest.fixture
def scim(tenant: str) -> Iterator[ScimClient]:
    with ScimClient.from_config(config_for(tenant, page_size=10)) as client:
        yield client


@pytest.fixture
def proxy(tenant: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(tenant)
    yield proxy
    proxy.close()


def user(user_name: str, /, **fields: Any) -> dict[str, Any]:
    return {"schemas": [USER_URN], "userName": user_name, **fields}


# --- Discovery --------------------------------------------------------------------------------


def test_discovery_against_scim2_server(scim: ScimClient) -> None:
    info = scim.discover()

    assert info.supports_patch and info.supports_filter and info.supports_bulk
    assert info.supports_etag and info.supports_sort
    assert info.filter_max_results == 1000
    assert info.user_endpoint == "/Users"
    assert info.has_groups
    assert info.user_extensions == (ENTERPRISE_USER_URN,)
    assert info.user_attribute("userName") is not None
    assert info.notes == ()


def test_discovery_of_a_custom_extension_and_no_patch(quirky_server: Scim2Server) -> None:
    with ScimClient.from_config(config_for(quirky_server.tenant())) as scim:
        info = scim.discover()

    assert not info.supports_patch
    assert not info.supports_bulk
    assert info.custom_user_extensions == (WINNINGTEMP_URN,)
    gender = info.user_attribute(f"{WINNINGTEMP_URN}:gender")
    assert gender is not None
    assert gender.type == "string"


def test_a_refused_token_is_an_access_error_naming_the_token(tenant: str) -> None:
    config = ScimConfig.model_validate({"url": tenant, "token": "wrong-token"})

    with ScimClient.from_config(config) as scim, pytest.raises(ScimAccessError) as caught:
        scim.discover()

    assert "the SCIM token was refused (401" in str(caught.value)
    assert "wrong-token" not in str(caught.value)
    assert caught.value.status == 401


# --- Users ------------------------------------------------------------------------------------


def test_create_read_patch_and_delete_a_user(scim: ScimClient) -> None:
    manager = scim.create_user(user("boss@x"))
    created = scim.create_user(
        user(
            "anna@x",
            externalId="1042",
            name={"givenName": "Anna", "familyName": "Berg"},
            emails=[{"type": "work", "value": "anna@x", "primary": True}],
            active=True,
            **{
                "schemas": [USER_URN, ENTERPRISE_USER_URN],
                ENTERPRISE_USER_URN: {"department": "IT"},
            },
        )
    )
    operations = build_patch(
        {
            "name.givenName": ("Anna", "Anne"),
            'emails[type eq "work"].value': ("anna@x", "anne@x"),
            'phoneNumbers[type eq "mobile"].value': (None, "+46701234567"),
            "active": (True, False),
            f"{ENTERPRISE_USER_URN}:department": ("IT", None),
            MANAGER_PATH: (None, manager["id"]),
        }
    )

    answer = scim.update_user(created["id"], operations, full={})

    assert answer is None  # scim2-server answers a PATCH with 204 No Content
    stored = scim.get_user(created["id"])
    assert stored["name"] == {"givenName": "Anne", "familyName": "Berg"}
    assert stored["emails"] == [{"type": "work", "value": "anne@x", "primary": True}]
    assert stored["phoneNumbers"] == [{"type": "mobile", "value": "+46701234567"}]
    assert stored["active"] is False
    assert stored[ENTERPRISE_USER_URN] == {"manager": {"value": manager["id"]}}

    scim.delete_user(created["id"])
    with pytest.raises(ScimNotFoundError) as caught:
        scim.get_user(created["id"])
    assert isinstance(caught.value, NotFoundError)
    assert caught.value.status == 404


def test_without_patch_an_update_is_a_put_of_the_whole_user(quirky_server: Scim2Server) -> None:
    with ScimClient.from_config(config_for(quirky_server.tenant())) as scim:
        schemas = [USER_URN, WINNINGTEMP_URN]
        created = scim.create_user(
            user("anna@x", schemas=schemas, **{WINNINGTEMP_URN: {"gender": "female"}})
        )
        full = user("anna@x", schemas=schemas, title="Nurse", **{WINNINGTEMP_URN: {"gender": "x"}})

        answer = scim.update_user(created["id"], build_patch({"title": (None, "Nurse")}), full)

        assert answer is not None
        assert answer["title"] == "Nurse"
        assert scim.get_user(created["id"])[WINNINGTEMP_URN] == {"gender": "x"}
        with pytest.raises(ScimRejectedError, match="does not support PATCH"):
            scim.patch_group("any", build_member_patch(["u1"], []))


def test_paging_reads_every_user_past_the_page_size(scim: ScimClient, proxy: FaultProxy) -> None:
    for n in range(23):
        scim.create_user(user(f"user{n:02}@x"))
    paged = ScimClient(build_http_client(config_for(proxy.url)), scim.info, page_size=10)

    names = [resource["userName"] for resource in paged.iter_users(attributes=["userName"])]

    assert sorted(names) == [f"user{n:02}@x" for n in range(23)]
    pages = [line for line in proxy.seen if line.startswith("GET /") and "startIndex" in line]
    assert len(pages) == 3
    assert "startIndex=21" in pages[-1]
    assert "count=10" in pages[-1]


def test_a_server_that_ignores_count_is_read_in_one_page(
    scim: ScimClient, proxy: FaultProxy
) -> None:
    for n in range(4):
        scim.create_user(user(f"u{n}@x"))
    proxy.dropped_params.add("count")
    paged = ScimClient(build_http_client(config_for(proxy.url)), scim.info, page_size=2)

    assert len(list(paged.iter_users())) == 4
    assert sum("startIndex" in line for line in proxy.seen) == 1


def test_a_server_that_ignores_start_index_is_refused(scim: ScimClient, proxy: FaultProxy) -> None:
    for n in range(4):
        scim.create_user(user(f"u{n}@x"))
    proxy.dropped_params.add("startIndex")
    paged = ScimClient(build_http_client(config_for(proxy.url)), scim.info, page_size=2)

    with pytest.raises(ScimRejectedError, match="ignores startIndex"):
        list(paged.iter_users())


def test_find_users_by_external_id_user_name_and_email(scim: ScimClient) -> None:
    scim.create_user(user("anna@x", externalId="1042", emails=[{"type": "work", "value": "a@x"}]))
    scim.create_user(user("bo@x", externalId="1043", emails=[{"type": "work", "value": 'b"o@x'}]))

    assert [u["userName"] for u in scim.find_users(equals_filter("externalId", "1042"))] == [
        "anna@x"
    ]
    assert [u["externalId"] for u in scim.find_users(equals_filter("userName", "bo@x"))] == ["1043"]
    assert [u["userName"] for u in scim.find_users(equals_filter("emails.value", 'b"o@x'))] == [
        "bo@x"
    ]
    assert scim.find_users(equals_filter("externalId", "9999")) == []


def test_a_duplicate_user_name_is_already_exists_with_its_scim_type(scim: ScimClient) -> None:
    scim.create_user(user("anna@x"))

    with pytest.raises(ScimConflictError) as caught:
        scim.create_user(user("anna@x"))

    error = caught.value
    assert isinstance(error, AlreadyExistsError)
    assert (error.status, error.scim_type) == (409, "uniqueness")
    assert error.detail
    assert str(error).startswith("POST /Users: 409 uniqueness: ")


def test_an_invalid_filter_is_rejected_with_its_scim_type(scim: ScimClient) -> None:
    with pytest.raises(ScimRejectedError) as caught:
        scim.find_users("userName eq")

    assert (caught.value.status, caught.value.scim_type) == (400, "invalidFilter")


# --- Groups and bulk --------------------------------------------------------------------------


def test_create_patch_members_and_delete_a_group(scim: ScimClient) -> None:
    anna, bo = (scim.create_user(user(name))["id"] for name in ("anna@x", "bo@x"))
    group = scim.create_group({"schemas": [GROUP_URN], "displayName": "Nurses"})

    scim.patch_group(group["id"], build_member_patch([anna, bo], []))
    assert {m["value"] for m in scim.get_group(group["id"])["members"]} == {anna, bo}

    scim.update_group(group["id"], build_member_patch([], [anna]), full={})
    assert [m["value"] for m in scim.get_group(group["id"])["members"]] == [bo]
    assert [g["displayName"] for g in scim.iter_groups(attributes=["displayName"])] == ["Nurses"]
    assert scim.find_groups(equals_filter("displayName", "Nurses"))[0]["id"] == group["id"]

    scim.delete_group(group["id"])
    with pytest.raises(ScimNotFoundError):
        scim.delete_group(group["id"])


def test_bulk_creates_users_in_one_request(scim: ScimClient) -> None:
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": f"b{n}", "data": user(f"bulk{n}@x")}
        for n in range(3)
    ]

    results = scim.bulk(operations)

    assert [result["status"] for result in results] == ["201", "201", "201"]
    assert len(scim.find_users('userName sw "bulk"')) == 3


# --- Retries ----------------------------------------------------------------------------------


def proxied(proxy: FaultProxy, sleeps: Sleeps, **fields: Any) -> ScimClient:
    """A client through the proxy that has discovered already, so faults meet the call tested."""
    scim = ScimClient.from_config(config_for(proxy.url, **fields), sleep=sleeps)
    scim.discover()
    return scim


def test_429_is_retried_after_the_wait_it_asks_for(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps)
    proxy.faults.extend([Fault(429, {"Retry-After": "7"}), Fault(429, {"Retry-After": "3600"})])

    created = scim.create_user(user("anna@x"))

    assert created["userName"] == "anna@x"
    assert sleeps.waits == [7.0, 60.0]  # the second wait is capped at a minute
    assert proxy.seen.count("POST " + httpx2.URL(proxy.url).path + "/Users") == 3


def test_429_with_an_http_date_and_a_scim_error_body(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps)
    body = json.dumps(
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "429",
            "detail": "slow down",
        }
    )
    proxy.faults.append(
        Fault(
            429,
            {
                "Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT",
                "Content-Type": "application/scim+json",
            },
            body,
        )
    )

    assert list(scim.iter_users()) == []
    assert sleeps.waits == [0.0]  # a date in the past means: now


def test_a_503_burst_is_retried_with_growing_back_off(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps, backoff_seconds=1)
    proxy.faults.extend([Fault(503), Fault(502), Fault(500)])

    assert scim.discover().supports_patch

    assert len(sleeps.waits) == 3
    assert [0.5 <= sleeps.waits[0] <= 1, 1 <= sleeps.waits[1] <= 2, 2 <= sleeps.waits[2] <= 4] == [
        True,
        True,
        True,
    ]


def test_a_503_burst_longer_than_the_retries_is_a_transient_error(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps, max_retries=2)
    proxy.faults.extend([Fault(503, body="<html>down</html>")] * 3)

    with pytest.raises(ScimUnavailableError) as caught:
        scim.discover()

    assert isinstance(caught.value, TransientError)
    assert caught.value.status == 503
    assert "gave up after 3 attempts" in str(caught.value)
    assert "down" in str(caught.value)
    assert len(sleeps.waits) == 2


def test_a_create_is_not_repeated_after_a_500(proxy: FaultProxy, scim: ScimClient) -> None:
    sleeps = Sleeps()
    proxied_scim = proxied(proxy, sleeps)
    proxy.faults.append(Fault(500))

    with pytest.raises(ScimUnavailableError, match="may have acted on it"):
        proxied_scim.create_user(user("anna@x"))

    assert sleeps.waits == []
    assert sum(line.endswith("/Users") for line in proxy.seen if line.startswith("POST")) == 1


def test_a_timeout_is_retried_then_a_transient_error(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps, timeout_seconds=0.3, max_retries=1)
    proxy.faults.extend([Fault(status=0, delay=1.0), Fault(status=0, delay=1.0)])

    with pytest.raises(ScimUnavailableError, match="timed out") as caught:
        scim.get_user("someone")

    assert len(sleeps.waits) == 1
    assert caught.value.status is None


def test_a_timeout_then_an_answer_succeeds(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps, timeout_seconds=0.3)
    proxy.faults.append(Fault(status=0, delay=1.0))

    assert scim.discover().has_groups
    assert len(sleeps.waits) == 1


def test_a_refused_connection_is_retried_then_transient() -> None:
    sleeps = Sleeps()
    config = config_for(f"http://127.0.0.1:{_free_port()}/scim", max_retries=2)
    scim = ScimClient(build_http_client(config), max_retries=2, sleep=sleeps)

    with pytest.raises(ScimUnavailableError, match="could not connect"):
        scim.create_user(user("anna@x"))  # nothing was sent, so even a POST is repeated

    assert len(sleeps.waits) == 2


# --- Compliance -------------------------------------------------------------------------------


def test_compliance_report_against_scim2_server(tenant: str) -> None:
    with build_http_client(config_for(tenant)) as http:
        read_only = check_compliance(http)
        full = check_compliance(http, include_writes=True)

    assert read_only.is_compliant
    assert read_only.passed > 0
    assert full.is_compliant
    assert full.passed > read_only.passed
    assert full.counts.get("success", 0) == full.passed - full.counts.get(
        "compliant", 0
    ) - full.counts.get("acceptable", 0)
    read_only_names = {check.name for check in read_only.checks}
    full_names = {check.name for check in full.checks}
    assert "service_provider_config_endpoint" in read_only_names
    assert "object_creation" not in read_only_names  # nothing was written without consent
    assert {"object_creation", "check_replace_attribute", "object_deletion"} <= full_names
    creation = next(check for check in full.checks if check.name == "object_creation")
    assert creation.title == "Object creation"
    assert creation.is_passing


def test_compliance_of_an_unreachable_service() -> None:
    with httpx2.Client(base_url=f"http://127.0.0.1:{_free_port()}/scim/") as http:
        report = check_compliance(http)

    assert not report.is_compliant
    assert report.failed >= 1
