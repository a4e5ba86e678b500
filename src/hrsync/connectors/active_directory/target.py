"""Active Directory as a target: read user accounts (and hrsync's groups), apply planned changes
over LDAP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from functools import partial
from typing import assert_never

import ldap
import structlog

from hrsync.connectors.active_directory.client import (
    Connect,
    DirectoryClient,
    Modification,
    Values,
)
from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.dn import split_rdns
from hrsync.connectors.active_directory.escaping import (
    dn_key,
    first_rdn,
    is_within,
    parent_dn,
    rdn,
)
from hrsync.connectors.active_directory.groups import DirectoryGroups
from hrsync.connectors.active_directory.passwords import initial_password, unicode_pwd
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.domain.account import Account, Attributes
from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateAccount,
    CreateGroup,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    ManualStep,
    MoveAccount,
    RemoveMembers,
    RenameAccount,
    RetireGroup,
    SetManager,
    UpdateAttributes,
    UpdateGroup,
    kind_of,
)
from hrsync.domain.errors import AlreadyExistsError, NotFoundError, RejectedError, TargetError
from hrsync.domain.groups import Group
from hrsync.domain.ids import AccountId
from hrsync.ports import Applied

log = structlog.get_logger(__name__)

USERS_FILTER = "(&(objectCategory=person)(objectClass=user))"
USER_CLASSES = [b"top", b"person", b"organizationalPerson", b"user"]
MANAGED_ATTRIBUTES = (
    "cn", "sAMAccountName", "userPrincipalName", "givenName", "sn", "displayName", "mail",
    "employeeID", "title", "department", "company", "telephoneNumber", "mobile", "streetAddress",
    "postalCode", "l", "physicalDeliveryOfficeName", "manager",
)  # fmt: skip
# Read for the Account's own fields, not kept in its attributes.
_IDENTITY_ATTRIBUTES = frozenset({"objectGUID", "distinguishedName", "userAccountControl"})
# Set by hrsync itself on create, never taken from the mapping.
_SET_ON_CREATE = frozenset({"objectclass", "unicodepwd", "pwdlastset", "useraccountcontrol"})
ACCOUNTDISABLE = 0x2  # userAccountControl bit (MS-ADTS 2.2.16)
NORMAL_ACCOUNT = 0x200

MakePassword = Callable[[Iterable[str]], str]


LOGIN_NAME_ATTRIBUTES = ("sAMAccountName", "userPrincipalName")
LOGIN_NAMES_FILTER = "(|(sAMAccountName=*)(userPrincipalName=*))"


class ActiveDirectoryTarget:
    """User accounts under `base_dn`. Only `apply` (and `ensure_users_ou`) write to the domain."""

    key = "active_directory"
    profile = AD_PROFILE

    def __init__(
        self,
        config: ActiveDirectoryConfig,
        connect: Connect = ldap.initialize,
        make_password: MakePassword = initial_password,
        mapped_attributes: Iterable[str] = (),
    ) -> None:
        """`mapped_attributes`: attributes the connection's mapping overrides add, read too."""
        self.config = config
        self._client = DirectoryClient(config, connect)
        self._groups = DirectoryGroups(self._client)
        self._make_password = make_password
        self._read_attributes = _read_attributes(config.person_id_attribute, mapped_attributes)

    def close(self) -> None:
        self._client.close()

    def check(self) -> None:
        """Bind, read the base DN, and find the users OU (or make sure it may be created)."""
        config = self.config
        if not config.is_encrypted:
            raise RejectedError(
                f"{config.url} is not encrypted: AD sets passwords only over LDAPS or StartTLS; "
                "use an ldaps:// URL or turn on start_tls"
            )
        self._client.bind()
        if self._client.read(config.base_dn, ["objectClass"]) is None:
            raise NotFoundError(f"the base DN {config.base_dn} does not exist or is not readable")
        missing = self._missing_chain(config.users_ou_dn)
        if missing and not config.create_missing_ou:
            raise NotFoundError(
                f"the users OU {config.users_ou_dn} does not exist (create_missing_ou is off)"
            )

    def prepare(self) -> None:
        """Before a run writes: the users OU exists."""
        self.ensure_users_ou()

    def ensure_users_ou(self) -> None:
        """Create the users OU, and any OU above it that is missing, under the base DN."""
        self._ensure_ou_chain(self.config.users_ou_dn)

    def read_reserved_names(self) -> Iterator[tuple[str, str]]:
        """(attribute, value) of every sAMAccountName and UPN in the whole domain, not only
        under the base DN: both must be unique domain-wide, across users, groups and computers
        alike."""
        root = ",".join(
            part for part in split_rdns(self.config.base_dn) if part[:3].upper() == "DC="
        )
        entries = self._client.search(root, LOGIN_NAMES_FILTER, LOGIN_NAME_ATTRIBUTES)
        for _, values in entries:
            for attribute in LOGIN_NAME_ATTRIBUTES:
                yield from ((attribute, value.decode()) for value in values.get(attribute, []))

    def read_accounts(self) -> Iterator[Account]:
        """Every user account under the base DN, streamed page by page."""
        entries = self._client.search(self.config.base_dn, USERS_FILTER, self._read_attributes)
        for dn, values in entries:
            yield account_from_entry(dn, values)

    def apply(self, change: Change) -> Applied:
        applied = self._apply(change)
        log.debug("ad.change_applied", kind=kind_of(change), ref=applied.ref)
        return applied

    def _apply(self, change: Change) -> Applied:
        match change:
            case CreateAccount():
                return self._create(change)
            case UpdateAttributes():
                self._modify(change.ref, _replacements(change.before, change.after))
            case EnableAccount() | DisableAccount():
                self._set_enabled(change.ref, isinstance(change, EnableAccount))
            case MoveAccount():
                return self._move(change)
            case RenameAccount():
                return self._rename(change)
            case DeleteAccount():
                self._require_in_scope(change.ref)
                self._client.delete(change.ref)
            case SetManager():
                self._modify(change.ref, [_replacement("manager", change.after)])
            case ManualStep():
                raise RejectedError(f"a manual step is for an admin, not a target: {change.reason}")
            case CreateGroup() | UpdateGroup() | AddMembers() | RemoveMembers() | RetireGroup():
                return self._apply_to_group(change)
            case _:
                assert_never(change)
        return Applied(ref=change.ref, account_id=change.account_id)

    def read_groups(self, ou: str) -> tuple[list[Group], frozenset[str]]:
        """hrsync's groups under `ou` with their members, and the (case-folded) CNs of the other
        objects directly in it (hrsync.connectors.active_directory.groups)."""
        self._require_in_scope(ou)
        return self._groups.read(ou)

    def _apply_to_group(
        self, change: CreateGroup | UpdateGroup | AddMembers | RemoveMembers | RetireGroup
    ) -> Applied:
        self._require_in_scope(change.ref)
        match change:
            case CreateGroup():
                self._with_parent(parent_dn(change.ref), partial(self._groups.create, change))
            case UpdateGroup():
                return Applied(ref=self._groups.update(change))
            case AddMembers() | RemoveMembers():
                self._groups.change_members(change)
            case RetireGroup():
                self._groups.retire(change)
        return Applied(ref=change.ref)

    def _create(self, change: CreateAccount) -> Applied:
        # AD accepts unicodePwd only over an encrypted connection.
        if not self.config.is_encrypted:
            raise RejectedError(
                f"create {change.ref}: no password goes over unencrypted {self.config.url}"
            )
        self._require_in_scope(change.ref)
        # One add with password, pwdLastSet and userAccountControl: no follow-up modify.
        values = _create_values(change.attributes)
        names = (change.attributes.get(name) for name in ("sAMAccountName", "displayName"))
        values["unicodePwd"] = [unicode_pwd(self._make_password(n for n in names if n))]
        values["pwdLastSet"] = [b"0"]  # must change the password at next logon
        flags = NORMAL_ACCOUNT | (0 if change.is_enabled else ACCOUNTDISABLE)
        values["userAccountControl"] = [str(flags).encode()]
        self._with_parent(parent_dn(change.ref), partial(self._client.add, change.ref, values))
        return Applied(ref=change.ref)

    def _modify(self, dn: str, modifications: list[Modification]) -> None:
        self._require_in_scope(dn)
        if modifications:
            self._client.modify(dn, modifications)

    def _set_enabled(self, dn: str, is_enabled: bool) -> None:
        """Flip only the ACCOUNTDISABLE bit, keeping every other userAccountControl flag."""
        self._require_in_scope(dn)
        values = self._client.read(dn, ["userAccountControl"])
        if values is None:
            raise NotFoundError(f"{'enable' if is_enabled else 'disable'} {dn}: no such account")
        flags = int(values["userAccountControl"][0])
        flags = flags & ~ACCOUNTDISABLE if is_enabled else flags | ACCOUNTDISABLE
        self._client.modify(dn, [(ldap.MOD_REPLACE, "userAccountControl", [str(flags).encode()])])

    def _move(self, change: MoveAccount) -> Applied:
        self._require_in_scope(change.ref)
        self._require_in_scope(change.new_container)
        # Samba reports a missing new parent as a generic error (AD: noSuchObject), so the
        # parent is made sure of first; moves are rare enough for the extra read.
        if self.config.create_missing_ou:
            self._ensure_ou_chain(change.new_container)
        own_rdn = first_rdn(change.ref)
        self._client.rename(change.ref, own_rdn, change.new_container)
        return Applied(ref=f"{own_rdn},{change.new_container}", account_id=change.account_id)

    def _rename(self, change: RenameAccount) -> Applied:
        self._require_in_scope(change.ref)
        new_rdn = rdn("CN", change.new_name)
        self._client.rename(change.ref, new_rdn)
        return Applied(ref=f"{new_rdn},{parent_dn(change.ref)}", account_id=change.account_id)

    def _with_parent(self, parent: str, operation: Callable[[], None]) -> None:
        """Run `operation`; when its parent OU is missing and may be created, create it, retry."""
        try:
            operation()
        except NotFoundError:
            if not self.config.create_missing_ou or not self._missing_chain(parent):
                raise
            self._ensure_ou_chain(parent)
            operation()

    def _ensure_ou_chain(self, dn: str) -> None:
        for ou in reversed(self._missing_chain(dn)):
            with suppress(AlreadyExistsError):  # another run may have created it meanwhile
                self._client.add(ou, {"objectClass": [b"top", b"organizationalUnit"]})

    def _missing_chain(self, dn: str) -> list[str]:
        """The DNs from `dn` up that do not exist yet, nearest first; all of them must be OUs."""
        self._require_in_scope(dn)
        missing: list[str] = []
        current = dn
        while dn_key(current) != dn_key(self.config.base_dn):
            if self._client.read(current, ["objectClass"]) is not None:
                break
            if dn_key(first_rdn(current))[0][0][0] != "ou":
                raise NotFoundError(f"{current} does not exist, and hrsync creates only OUs")
            missing.append(current)
            current = parent_dn(current)
        return missing

    def _require_in_scope(self, dn: str) -> None:
        """Refuse to write outside the base DN, whatever the plan says."""
        try:
            is_inside = is_within(dn, self.config.base_dn)
        except ldap.DECODING_ERROR as error:
            raise RejectedError(f"{dn!r} is not a valid distinguished name") from error
        if not is_inside:
            raise RejectedError(f"{dn} lies outside the base DN {self.config.base_dn}")


def _read_attributes(person_id_attribute: str, mapped: Iterable[str] = ()) -> list[str]:
    extra = [
        a for a in dict.fromkeys([person_id_attribute, *mapped]) if a not in MANAGED_ATTRIBUTES
    ]
    return sorted(_IDENTITY_ATTRIBUTES) + list(MANAGED_ATTRIBUTES) + extra


def account_from_entry(dn: str, values: Values) -> Account:
    """An Account from one search entry: objectGUID as account id, UAC bit 2 as disabled."""
    guid = values.get("objectGUID")
    if not guid:
        raise TargetError(f"{dn} came back without an objectGUID: may the bind account read it?")
    flags = int(values["userAccountControl"][0]) if "userAccountControl" in values else 0
    attributes: Attributes = {
        name: raw[0].decode("utf-8", "replace")
        for name, raw in values.items()
        if name not in _IDENTITY_ATTRIBUTES and raw
    }
    return Account(
        account_id=AccountId(str(uuid.UUID(bytes_le=guid[0]))),
        ref=dn,
        is_enabled=not flags & ACCOUNTDISABLE,
        attributes=attributes,
        container=parent_dn(dn),
    )


def _create_values(attributes: Attributes) -> Values:
    values: Values = {"objectClass": list(USER_CLASSES)}
    for name, value in attributes.items():
        if value is not None and not name.startswith("_") and name.lower() not in _SET_ON_CREATE:
            values[name] = [value.encode()]
    return values


def _replacements(before: Attributes, after: Attributes) -> list[Modification]:
    """One MOD_REPLACE per changed value, all sent in a single modify."""
    return [
        _replacement(name, value)
        for name, value in after.items()
        if not name.startswith("_") and value != before.get(name)
    ]


def _replacement(name: str, value: str | None) -> Modification:
    """Set `name` to `value`; None clears it with a replace by no values, which (unlike
    MOD_DELETE) does not fail with noSuchAttribute when the attribute is already gone."""
    return (ldap.MOD_REPLACE, name, None if value is None else [value.encode()])
