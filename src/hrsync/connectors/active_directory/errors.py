"""Translate python-ldap exceptions into the engine's errors, in words an admin can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ldap

from hrsync.domain.errors import (
    AlreadyExistsError,
    NotFoundError,
    RejectedError,
    TargetError,
    TransientError,
)

_TRANSLATIONS: dict[type[ldap.LDAPError], tuple[type[TargetError], str]] = {
    ldap.SERVER_DOWN: (TransientError, "the domain controller cannot be reached"),
    ldap.CONNECT_ERROR: (TransientError, "the TLS connection could not be set up"),
    ldap.TIMEOUT: (TransientError, "the domain controller did not answer in time"),
    ldap.TIMELIMIT_EXCEEDED: (TransientError, "the domain controller ran out of time"),
    ldap.BUSY: (TransientError, "the domain controller is busy"),
    ldap.UNAVAILABLE: (TransientError, "the domain controller is unavailable"),
    ldap.ADMINLIMIT_EXCEEDED: (TransientError, "the domain controller hit an admin limit"),
    ldap.NO_SUCH_OBJECT: (NotFoundError, "the object or its parent does not exist"),
    ldap.ALREADY_EXISTS: (AlreadyExistsError, "an object with that name already exists"),
    ldap.INVALID_CREDENTIALS: (RejectedError, "wrong bind DN or password"),
    ldap.INAPPROPRIATE_AUTH: (RejectedError, "this account cannot bind with a password"),
    ldap.STRONG_AUTH_REQUIRED: (RejectedError, "the server requires an encrypted connection"),
    ldap.CONFIDENTIALITY_REQUIRED: (RejectedError, "the server requires an encrypted connection"),
    ldap.INSUFFICIENT_ACCESS: (RejectedError, "the bind account lacks the permission"),
    ldap.CONSTRAINT_VIOLATION: (RejectedError, "a value breaks a directory constraint"),
    ldap.UNWILLING_TO_PERFORM: (RejectedError, "the server refuses the operation"),
    ldap.OBJECT_CLASS_VIOLATION: (RejectedError, "the object does not fit its schema class"),
    ldap.INVALID_SYNTAX: (RejectedError, "a value has the wrong format for its attribute"),
    ldap.INVALID_DN_SYNTAX: (RejectedError, "a distinguished name is malformed"),
    ldap.NAMING_VIOLATION: (RejectedError, "the name is not allowed in that place"),
    ldap.UNDEFINED_TYPE: (RejectedError, "an attribute is not in the directory schema"),
    ldap.NO_SUCH_ATTRIBUTE: (RejectedError, "an attribute to change is not set"),
    ldap.TYPE_OR_VALUE_EXISTS: (RejectedError, "the value is already set"),
    ldap.NOT_ALLOWED_ON_NONLEAF: (RejectedError, "the object still has children"),
    ldap.NOT_ALLOWED_ON_RDN: (RejectedError, "the naming attribute changes only by a rename"),
    ldap.DECODING_ERROR: (RejectedError, "a distinguished name or value cannot be parsed"),
    ldap.SIZELIMIT_EXCEEDED: (RejectedError, "the search returned more than the server allows"),
}


def translate(error: ldap.LDAPError, action: str) -> TargetError:
    """The engine error for `error`, e.g. "create CN=…: an object with that name already exists
    (server: 00002071: … ENTRY_EXISTS)". Unknown LDAP errors become a plain TargetError."""
    kind, words = _classify(error)
    diagnostic = _diagnostic(error)
    suffix = f" (server: {diagnostic})" if diagnostic else ""
    return kind(f"{action}: {words}{suffix}")


def _classify(error: ldap.LDAPError) -> tuple[type[TargetError], str]:
    for ldap_type in type(error).__mro__:
        if ldap_type in _TRANSLATIONS:
            return _TRANSLATIONS[ldap_type]
    return TargetError, "the directory reported an error"


def _diagnostic(error: ldap.LDAPError) -> str:
    """The server's diagnostic message (or the client library's description), on one line."""
    details = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    text = str(details.get("info") or details.get("desc") or "")
    return " ".join(text.split())


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Run a block of LDAP calls, re-raising any LDAP error as an engine error about `action`."""
    try:
        yield
    except ldap.LDAPError as error:
        raise translate(error, action) from error
