"""A small directory client over python-ldap: one connection, TLS, paged search, writes.

The connection comes from an injected `connect` callable (default `ldap.initialize`), the one IO
seam: tests point it at a real Samba DC. Every LDAP error leaves this module translated into the
engine's errors (`errors.translated`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Protocol

import ldap
from ldap.controls import LDAPControl
from ldap.controls.pagedresults import SimplePagedResultsControl

from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.errors import translated
from hrsync.domain.errors import NotFoundError, TransientError

Values = dict[str, list[bytes]]
Entry = tuple[str, Values]
Modification = tuple[int, str, list[bytes] | None]

# AD's tree delete control (LDAP_SERVER_TREE_DELETE_OID): delete an object with its subtree.
TREE_DELETE_OID = "1.2.840.113556.1.4.805"


class LdapConnection(Protocol):
    """The part of python-ldap's LDAPObject this client uses."""

    def set_option(self, option: int, invalue: Any) -> None: ...
    def start_tls_s(self) -> None: ...
    def simple_bind_s(self, who: str, cred: str) -> Any: ...
    def search_ext(
        self,
        base: str,
        scope: int,
        filterstr: str,
        attrlist: list[str] | None,
        *,
        serverctrls: list[LDAPControl] | None = None,
    ) -> int: ...
    def result3(self, msgid: int, all: int = 1, timeout: float | None = None) -> Any: ...
    def add_s(self, dn: str, modlist: list[tuple[str, list[bytes]]]) -> Any: ...
    def modify_s(self, dn: str, modlist: list[Modification]) -> Any: ...
    def modify_ext_s(
        self, dn: str, modlist: list[Modification], serverctrls: list[LDAPControl] | None = None
    ) -> Any: ...
    def rename_s(self, dn: str, newrdn: str, newsuperior: str | None = None) -> Any: ...
    def delete_ext_s(self, dn: str, serverctrls: list[LDAPControl] | None = None) -> Any: ...
    def unbind_s(self) -> None: ...


Connect = Callable[[str], LdapConnection]


class DirectoryClient:
    """One lazily opened, bound connection to a domain controller. Not shared between threads."""

    def __init__(self, config: ActiveDirectoryConfig, connect: Connect = ldap.initialize) -> None:
        self._config = config
        self._connect = connect
        self._connection: LdapConnection | None = None

    def bind(self) -> None:
        """(Re)open the connection and bind; raises a TargetError the admin can read."""
        self.close()
        self._connection = self._open()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # The server may be gone already; the socket is closed either way.
            with suppress(ldap.LDAPError):
                connection.unbind_s()

    def search(
        self, base: str, filterstr: str, attributes: Sequence[str], scope: int = ldap.SCOPE_SUBTREE
    ) -> Iterator[Entry]:
        """Every entry matching `filterstr`, fetched page by page (simple paged results, RFC 2696).

        Pages are requested one at a time as the caller consumes entries, so only one page is
        held in memory. Search continuation references (referrals) are skipped.
        """
        paging = SimplePagedResultsControl(True, size=self._config.page_size, cookie="")
        while True:
            with self._translated(f"search {base}"):
                connection = self._bound()
                msgid = connection.search_ext(
                    base, scope, filterstr, list(attributes), serverctrls=[paging]
                )
                _, page, _, controls = connection.result3(msgid, timeout=self._timeout)
            yield from ((dn, values) for dn, values in page if dn is not None)
            paging.cookie = _next_cookie(controls)
            if not paging.cookie:
                return

    def read(self, dn: str, attributes: Sequence[str]) -> Values | None:
        """One entry's attributes, or None when there is no entry at `dn`."""
        try:
            entries = list(self.search(dn, "(objectClass=*)", attributes, ldap.SCOPE_BASE))
        except NotFoundError:
            return None
        return entries[0][1] if entries else None

    def add(self, dn: str, values: Mapping[str, list[bytes]]) -> None:
        with self._translated(f"create {dn}"):
            self._bound().add_s(dn, list(values.items()))

    def modify(
        self, dn: str, modifications: list[Modification], controls: list[LDAPControl] | None = None
    ) -> None:
        with self._translated(f"modify {dn}"):
            if controls:
                self._bound().modify_ext_s(dn, modifications, serverctrls=controls)
            else:
                self._bound().modify_s(dn, modifications)

    def rename(self, dn: str, new_rdn: str, new_parent: str | None = None) -> None:
        """Rename and/or move (modify DN); the old RDN value is dropped."""
        with self._translated(f"rename {dn}"):
            self._bound().rename_s(dn, new_rdn, new_parent)

    def delete(self, dn: str, with_subtree: bool = False) -> None:
        controls = [LDAPControl(TREE_DELETE_OID, True, None)] if with_subtree else None
        with self._translated(f"delete {dn}"):
            self._bound().delete_ext_s(dn, serverctrls=controls)

    @property
    def _timeout(self) -> float:
        return self._config.timeout_seconds

    def _bound(self) -> LdapConnection:
        if self._connection is None:
            self._connection = self._open()
        return self._connection

    def _open(self) -> LdapConnection:
        config = self._config
        try:
            with translated(f"bind to {config.url} as {config.bind_dn}"):
                connection = self._connect(config.url)
                self._set_options(connection)
                if config.start_tls:
                    connection.start_tls_s()
                connection.simple_bind_s(config.bind_dn, config.password.get_secret_value())
        except TransientError as error:
            # libldap reports a rejected certificate on ldaps:// as "can't contact server".
            if config.is_encrypted and config.tls_verify:
                hint = "; if the DC is up, check that ca_file trusts its certificate for this host"
                raise TransientError(f"{error}{hint}") from error.__cause__
            raise
        return connection

    def _set_options(self, connection: LdapConnection) -> None:
        config = self._config
        connection.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
        # AD answers searches from the domain root with referrals to other partitions; chasing
        # them would bind anonymously elsewhere. Referrals are skipped instead.
        connection.set_option(ldap.OPT_REFERRALS, 0)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, config.timeout_seconds)
        connection.set_option(ldap.OPT_TIMEOUT, config.timeout_seconds)
        require = ldap.OPT_X_TLS_DEMAND if config.tls_verify else ldap.OPT_X_TLS_NEVER
        connection.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, require)
        if config.ca_file:
            connection.set_option(ldap.OPT_X_TLS_CACERTFILE, config.ca_file)
        # Must come last: builds the connection's TLS context from the options above.
        connection.set_option(ldap.OPT_X_TLS_NEWCTX, 0)

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            with translated(action):
                yield
        except TransientError:
            self._connection = None  # the connection broke: the next call opens a new one
            raise


def _next_cookie(controls: list[LDAPControl]) -> bytes:
    for control in controls:
        if control.controlType == SimplePagedResultsControl.controlType:
            cookie: bytes = control.cookie
            return cookie
    return b""
