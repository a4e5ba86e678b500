"""SCIM config validation and the translation of final answers into the engine's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hrsync.connectors.scim.config import ScimConfig, is_loopback
from hrsync.connectors.scim.errors import (
    ScimAccessError,
    ScimConflictError,
    ScimNotFoundError,
    ScimRejectedError,
    ScimUnavailableError,
    translate_failure,
)
from hrsync.domain.errors import (
    AlreadyExistsError,
    NotFoundError,
    RejectedError,
    TargetError,
    TransientError,
)

BEARER = {"url": "https://app.example/scim/v2", "token": "s3cret"}


@pytest.mark.parametrize(
    ("status", "scim_type", "kind", "engine_kind"),
    [
        (409, "uniqueness", ScimConflictError, AlreadyExistsError),
        (409, None, ScimConflictError, AlreadyExistsError),
        (409, "mutability", ScimRejectedError, RejectedError),
        (404, None, ScimNotFoundError, NotFoundError),
        (400, "invalidValue", ScimRejectedError, RejectedError),
        (400, "invalidPath", ScimRejectedError, RejectedError),
        (412, None, ScimRejectedError, RejectedError),
        (413, "tooMany", ScimRejectedError, RejectedError),
        (401, None, ScimAccessError, RejectedError),
        (403, None, ScimAccessError, RejectedError),
        (503, None, ScimUnavailableError, TransientError),
    ],
)
def test_each_status_becomes_its_engine_error(
    status: int, scim_type: str | None, kind: type[TargetError], engine_kind: type[TargetError]
) -> None:
    error = translate_failure("POST /Users", status, scim_type, "why")

    assert type(error) is kind
    assert isinstance(error, engine_kind)
    assert (error.status, error.scim_type, error.detail) == (status, scim_type, "why")


def test_the_message_carries_scim_type_and_detail() -> None:
    error = translate_failure("POST /Users", 409, "uniqueness", "User already exists: anna@x")

    assert str(error) == "POST /Users: 409 uniqueness: User already exists: anna@x"


def test_an_empty_scim_type_is_none_and_a_long_detail_is_cut() -> None:
    error = translate_failure("PUT /Users/1", 400, "", "x " * 400)

    assert error.scim_type is None
    assert error.detail is not None
    assert len(error.detail) == 300
    assert error.detail.endswith("…")


@pytest.mark.parametrize(
    ("status", "credential", "words"),
    [
        (401, "token", "the SCIM token was refused (401"),
        (401, "username and password", "the SCIM username and password was refused"),
        (403, "token", "accepted but lacks the rights"),
    ],
)
def test_refused_credentials_read_for_an_admin(status: int, credential: str, words: str) -> None:
    error = translate_failure("GET /Users", status, None, None, credential=credential)

    assert words in str(error)


def test_a_valid_bearer_config() -> None:
    config = ScimConfig.model_validate({**BEARER, "url": "https://app.example/scim/v2/"})

    assert config.url == "https://app.example/scim/v2"
    assert (config.auth, config.profile, config.page_size, config.tls_verify) == (
        "bearer",
        "generic",
        100,
        True,
    )
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "http://app.example/scim"}, "must use https://"),
        ({"url": "http://app.example/scim", "tls_verify": False}, "must use https://"),
        ({"url": "ftp://app.example/scim"}, "absolute https:// URL"),
        ({"url": "app.example/scim"}, "absolute https:// URL"),
        ({"url": "https://app.example/scim?tenant=1"}, "query or a fragment"),
        ({"token": None}, "needs a token"),
        ({"token": "  "}, "needs a token"),
        ({"username": "svc"}, "not a username or password"),
        ({"auth": "basic", "token": None, "username": "svc"}, "needs a username and a password"),
        ({"auth": "basic", "username": "svc", "password": "pw"}, "not a token"),
        ({"ca_file": "/nonexistent/ca.pem"}, "not a readable file"),
        ({"profile": "okta"}, "profile"),
        ({"page_size": 0}, "page_size"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_configs_say_what_is_wrong(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ScimConfig.model_validate({**BEARER, **fields})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/scim", "http://localhost/scim", "http://[::1]:9/"]
)
def test_plain_http_is_accepted_on_loopback(url: str) -> None:
    assert ScimConfig.model_validate({**BEARER, "url": url}).url == url.rstrip("/")


def test_basic_auth_and_a_ca_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = ScimConfig.model_validate(
        {
            "url": BEARER["url"],
            "auth": "basic",
            "username": "svc",
            "password": "pw",
            "ca_file": str(ca),
        }
    )

    assert config.password is not None
    assert config.password.get_secret_value() == "pw"
    with pytest.raises(ValidationError, match="only read when tls_verify is on"):
        ScimConfig.model_validate({**BEARER, "ca_file": str(ca), "tls_verify": False})


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("127.0.0.5", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("app.example", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
