"""The SCIM protocol layer against a real scim2-server on loopback, and a fault proxy before it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

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
from hrsync.testing.fault_proxy import FaultProxy
from hrsync.testing.scim import DEFAULT_TOKEN, ScimServer, start_scim2_server

TOKEN = DEFAULT_TOKEN
QUIRKS = Path(__file__).parent / "scim_quirks"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
WINNINGTEMP_URN = "urn:ietf:params:scim:schemas:extension:winningtemp:2.0:User"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def quirky_process() -> Iterator[ScimServer]:
    """scim2-server with a Winningtemp-like extension and no PATCH, bulk or ETag."""
    server = start_scim2_server(
        extra_schemas=[QUIRKS / "winningtemp-schemas.json"],
        extra_resource_types=[QUIRKS / "winningtemp-resource-types.json"],
        service_provider_config=QUIRKS / "no-patch-service-provider-config.json",
    )
    yield server
    server.stop()


@pytest.fixture
def quirky_server(quirky_process: ScimServer) -> ScimServer:
    return quirky_process.new_tenant()


# --- Helpers ----------------------------------------------------------------------------------


@dataclass
class Sleeps:
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def config_for(url: str, **fields: Any) -> ScimConfig:
    return ScimConfig.model_validate({"url": url, "token": TOKEN, **fields})


@pytest.fixture
def tenant(scim2_server: ScimServer) -> str:
    """The base URL of an empty tenant of this module's scim2-server."""
    return scim2_server.url.rstrip("/")


@pytest.fixture
def scim(tenant: str) -> Iterator[ScimClient]:
    with ScimClient.from_config(config_for(tenant, page_size=10)) as client:
        yield client


@pytest.fixture
def proxy(tenant: str) -> Iterator[FaultProxy]:
    with FaultProxy(tenant) as proxy:
        yield proxy


def seen(proxy: FaultProxy) -> list[str]:
    """What reached the proxy, as "METHOD /path?query" lines."""
    return [f"{request.method} {request.path}" for request in proxy.requests]


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
    # hrsync's test server serves the Winningtemp extension beside the enterprise one.
    assert set(info.user_extensions) == {ENTERPRISE_USER_URN, WINNINGTEMP_URN}
    assert info.user_attribute("userName") is not None
    assert info.notes == ()


def test_discovery_of_a_custom_extension_and_no_patch(quirky_server: ScimServer) -> None:
    with ScimClient.from_config(config_for(quirky_server.url)) as scim:
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


def test_without_patch_an_update_is_a_put_of_the_whole_user(quirky_server: ScimServer) -> None:
    with ScimClient.from_config(config_for(quirky_server.url)) as scim:
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
    pages = [line for line in seen(proxy) if line.startswith("GET /") and "startIndex" in line]
    assert len(pages) == 3
    assert "startIndex=21" in pages[-1]
    assert "count=10" in pages[-1]


def test_a_server_that_ignores_count_is_read_in_one_page(
    scim: ScimClient, proxy: FaultProxy
) -> None:
    for n in range(4):
        scim.create_user(user(f"u{n}@x"))
    proxy.ignore_params("count")
    paged = ScimClient(build_http_client(config_for(proxy.url)), scim.info, page_size=2)

    assert len(list(paged.iter_users())) == 4
    assert sum("startIndex" in line for line in seen(proxy)) == 1


def test_a_server_that_ignores_start_index_is_refused(scim: ScimClient, proxy: FaultProxy) -> None:
    for n in range(4):
        scim.create_user(user(f"u{n}@x"))
    proxy.ignore_params("startIndex")
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
    proxy.fail_next(1, status=429, retry_after="7")
    proxy.fail_next(1, status=429, retry_after="3600")

    created = scim.create_user(user("anna@x"))

    assert created["userName"] == "anna@x"
    assert sleeps.waits == [7.0, 60.0]  # the second wait is capped at a minute
    assert seen(proxy).count("POST " + httpx2.URL(proxy.url).path.rstrip("/") + "/Users") == 3


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
    proxy.fail_next(
        1,
        status=429,
        retry_after="Wed, 21 Oct 2015 07:28:00 GMT",
        body=body,
        content_type="application/scim+json",
    )

    assert list(scim.iter_users()) == []
    assert sleeps.waits == [0.0]  # a date in the past means: now


def test_a_503_burst_is_retried_with_growing_back_off(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps, backoff_seconds=1)
    for status in (503, 502, 500):
        proxy.fail_next(1, status=status, retry_after=None)

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
    proxy.fail_next(
        3, status=503, retry_after=None, body="<html>down</html>", content_type="text/html"
    )

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
    proxy.fail_next(1, status=500, retry_after=None)

    with pytest.raises(ScimUnavailableError, match="may have acted on it"):
        proxied_scim.create_user(user("anna@x"))

    assert sleeps.waits == []
    assert sum(line.endswith("/Users") for line in seen(proxy) if line.startswith("POST")) == 1


def test_a_timeout_is_retried_then_a_transient_error(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps, timeout_seconds=0.3, max_retries=1)
    proxy.delay_next(2, 1.0)

    with pytest.raises(ScimUnavailableError, match="timed out") as caught:
        scim.get_user("someone")

    assert len(sleeps.waits) == 1
    assert caught.value.status is None


def test_a_timeout_then_an_answer_succeeds(proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    scim = proxied(proxy, sleeps, timeout_seconds=0.3)
    proxy.delay_next(1, 1.0)

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
