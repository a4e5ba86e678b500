"""Active Directory settings validation and LDAP error translation (no server needed)."""

from __future__ import annotations

from typing import Any

import ldap
import pytest
from pydantic import ValidationError

from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.errors import translate
from hrsync.domain.errors import (
    AlreadyExistsError,
    NotFoundError,
    RejectedError,
    TargetError,
    TransientError,
)

BASE: dict[str, Any] = {
    "url": "ldaps://dc.example.test",
    "bind_dn": "svc-hrsync@example.test",
    "password": "secret",
    "base_dn": "DC=example,DC=test",
    "users_ou": "OU=Staff",
    "upn_suffix": "@example.test",
}


@pytest.mark.parametrize(
    ("users_ou", "users_ou_dn"),
    [
        ("OU=Staff", "OU=Staff,DC=example,DC=test"),
        ("OU=Staff,OU=HR", "OU=Staff,OU=HR,DC=example,DC=test"),
        ("OU=Staff,DC=example,DC=test", "OU=Staff,DC=example,DC=test"),
        ("ou=Staff,dc=EXAMPLE,dc=test", "ou=Staff,dc=EXAMPLE,dc=test"),
    ],
)
def test_users_ou_is_full_or_relative_to_the_base_dn(users_ou: str, users_ou_dn: str) -> None:
    assert ActiveDirectoryConfig(**(BASE | {"users_ou": users_ou})).users_ou_dn == users_ou_dn


def test_defaults_are_safe() -> None:
    config = ActiveDirectoryConfig(**BASE)
    assert (config.tls_verify, config.is_encrypted, config.upn_suffix) == (
        True,
        True,
        "example.test",
    )
    assert "secret" not in repr(config)


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "https://dc.example.test"},
        {"url": "ldaps://dc.example.test", "start_tls": True},
        {"base_dn": "not a dn"},
        {"person_id_attribute": "employeeNumber)(cn=*"},
        {"page_size": 0},
    ],
)
def test_rejects_bad_settings(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ActiveDirectoryConfig(**(BASE | changes))


def test_plain_ldap_is_encrypted_only_with_start_tls() -> None:
    plain = BASE | {"url": "ldap://dc.example.test"}
    assert not ActiveDirectoryConfig(**plain).is_encrypted
    assert ActiveDirectoryConfig(**(plain | {"start_tls": True})).is_encrypted


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (ldap.SERVER_DOWN, TransientError, "cannot be reached"),
        (ldap.TIMEOUT, TransientError, "did not answer in time"),
        (ldap.BUSY, TransientError, "busy"),
        (ldap.UNAVAILABLE, TransientError, "unavailable"),
        (ldap.NO_SUCH_OBJECT, NotFoundError, "does not exist"),
        (ldap.ALREADY_EXISTS, AlreadyExistsError, "already exists"),
        (ldap.CONSTRAINT_VIOLATION, RejectedError, "constraint"),
        (ldap.UNWILLING_TO_PERFORM, RejectedError, "refuses"),
        (ldap.INSUFFICIENT_ACCESS, RejectedError, "permission"),
        (ldap.OBJECT_CLASS_VIOLATION, RejectedError, "schema"),
        (ldap.INVALID_SYNTAX, RejectedError, "wrong format"),
        (ldap.INVALID_CREDENTIALS, RejectedError, "wrong bind DN or password"),
        (ldap.OTHER, TargetError, "reported an error"),
    ],
)
def test_translates_ldap_errors(error: type[ldap.LDAPError], kind: type, words: str) -> None:
    translated = translate(error({"desc": "x", "info": "0000: line\n two"}), "modify CN=a")
    assert type(translated) is kind
    assert str(translated).startswith("modify CN=a: ")
    assert words in str(translated)
    assert str(translated).endswith("(server: 0000: line two)")
