"""Active Directory security groups for organisation units: read hrsync's own, apply changes.

A group is hrsync's when its `adminDescription` holds hrsync's marker, `hrsync-group:<id>`,
optionally followed by `;empty-since=<ISO date>` (the day hrsync found it empty; it is retired
once empty for the grace period). `adminDescription` is meant for administrative data, single
valued, not shown by the usual tools and rarely edited by hand, unlike `info` (the Notes field).
Nothing is changed or deleted without the marker naming the change's group id.

Members are added and removed in batches with AD's permissive-modify control, under which AD
ignores members already present or already gone. Samba ignores the control for `member`, so a
batch it refuses is retried one member at a time, skipping those; a member that does not exist
(its account's create failed) fails the change, after the others are written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import ldap
from ldap.controls import LDAPControl

from hrsync.connectors.active_directory.client import DirectoryClient, Values
from hrsync.connectors.active_directory.escaping import escape_filter_value, parent_dn, rdn
from hrsync.domain.account import Attributes
from hrsync.domain.changes import AddMembers, CreateGroup, RemoveMembers, RetireGroup, UpdateGroup
from hrsync.domain.errors import NotFoundError, RejectedError, TargetError
from hrsync.domain.groups import EMPTY_SINCE, GROUP_ATTRIBUTES, HRSYNC_ID, Group
from hrsync.domain.ids import GroupId

MARKER_ATTRIBUTE = "adminDescription"
MARKER_PREFIX = "hrsync-group:"
EMPTY_SINCE_KEY = "empty-since="
MANAGED_GROUPS_FILTER = f"(&(objectClass=group)({MARKER_ATTRIBUTE}={MARKER_PREFIX}*))"
GROUP_READ = ["cn", "sAMAccountName", *GROUP_ATTRIBUTES, MARKER_ATTRIBUTE, "member"]
# groupType (MS-ADTS 2.2.12): a security group is GROUP_TYPE_SECURITY_ENABLED (0x80000000) plus
# its scope; the attribute is a signed 32-bit integer.
SECURITY_ENABLED = 0x80000000
SCOPE_FLAGS = {"global": 0x2, "universal": 0x8}
PERMISSIVE_MODIFY_OID = "1.2.840.113556.1.4.1413"  # LDAP_SERVER_PERMISSIVE_MODIFY_OID
MEMBER_BATCH = 1000
"""Values per modify: well inside what AD takes in one operation."""
SHOWN_FAILURES = 5
_RANGE = re.compile(r"^member;range=(\d+)-(\d+|\*)$", re.IGNORECASE)


def marker(group_id: str, empty_since: str | None = None) -> str:
    """`hrsync-group:<id>` or `hrsync-group:<id>;empty-since=<date>`."""
    return MARKER_PREFIX + group_id + (f";{EMPTY_SINCE_KEY}{empty_since}" if empty_since else "")


def parse_marker(value: str) -> tuple[GroupId, str | None] | None:
    """(group id, empty since) from a marker; None when the value is not hrsync's."""
    if not value.startswith(MARKER_PREFIX):
        return None
    group_id, _, rest = value.removeprefix(MARKER_PREFIX).partition(";")
    if not group_id:
        return None
    since = rest.removeprefix(EMPTY_SINCE_KEY) if rest.startswith(EMPTY_SINCE_KEY) else None
    return GroupId(group_id), since or None


def group_type(scope: str) -> int:
    """groupType of a security group with `scope` ("global" or "universal"), as AD stores it."""
    value = SECURITY_ENABLED | SCOPE_FLAGS[scope]
    return value - (1 << 32)


def next_range(key: str) -> int | None:
    """From a ranged attribute's name ("member;range=0-1499"), where the next range starts;
    None when this range was the last ("member;range=1500-*") or the name is not ranged."""
    match = _RANGE.match(key)
    if match is None or match.group(2) == "*":
        return None
    return int(match.group(2)) + 1


class DirectoryGroups:
    """hrsync's groups under one OU, read and written through the target's client."""

    def __init__(self, client: DirectoryClient) -> None:
        self._client = client

    def read(self, ou: str) -> tuple[list[Group], frozenset[str]]:
        """hrsync's groups anywhere under `ou`, with their members, and the case-folded CNs of
        every other object directly in it (names new groups must avoid). An OU not made yet
        holds nothing."""
        try:
            groups = [
                group
                for dn, values in self._client.search(ou, MANAGED_GROUPS_FILTER, GROUP_READ)
                if (group := self._group(dn, values)) is not None
            ]
            entries = self._client.search(
                ou, "(objectClass=*)", ["cn", MARKER_ATTRIBUTE], ldap.SCOPE_ONELEVEL
            )
            others = frozenset(
                values["cn"][0].decode().casefold()
                for _, values in entries
                if values.get("cn") and not _marked(values)
            )
        except NotFoundError:
            return [], frozenset()
        return groups, others

    def _group(self, dn: str, values: Values) -> Group | None:
        parsed = parse_marker(_text(values, MARKER_ATTRIBUTE) or "")
        if parsed is None:
            return None
        group_id, since = parsed
        attributes: Attributes = {
            name: _text(values, name) for name in ("cn", "sAMAccountName", *GROUP_ATTRIBUTES)
        }
        if since:
            attributes[EMPTY_SINCE] = since
        members = tuple(self._members(dn, values))
        return Group(group_id, dn, {k: v for k, v in attributes.items() if v}, members)

    def _members(self, dn: str, values: Values) -> Iterator[str]:
        """Every member DN, following AD's range retrieval past MaxValRange (1500) values."""
        yield from (value.decode() for value in values.get("member", []))
        ranged = [key for key in values if key.lower().startswith("member;range=")]
        while ranged:
            key = ranged[0]
            yield from (value.decode() for value in values[key])
            start = next_range(key)
            if start is None:
                return
            values = self._client.read(dn, [f"member;range={start}-*"]) or {}
            ranged = [key for key in values if key.lower().startswith("member;range=")]

    def create(self, change: CreateGroup) -> None:
        values: Values = {
            "objectClass": [b"top", b"group"],
            "groupType": [str(group_type(change.scope)).encode()],
            MARKER_ATTRIBUTE: [marker(change.group_id).encode()],
        }
        for name, value in change.attributes.items():
            if value:
                values[name] = [value.encode()]
        self._client.add(change.ref, values)

    def update(self, change: UpdateGroup) -> str:
        """Replace the names and the marker, then rename; returns the group's DN after."""
        self.require_managed(change.ref, change.group_id)
        modifications = [
            (ldap.MOD_REPLACE, name, [value.encode()] if value else None)
            for name, value in change.after.items()
            if name in GROUP_ATTRIBUTES
        ]
        if HRSYNC_ID in change.after or EMPTY_SINCE in change.after:
            # Both parts are written together: the engine always states both when either moves.
            new_id = change.after.get(HRSYNC_ID) or change.group_id
            value = marker(new_id, change.after.get(EMPTY_SINCE))
            modifications.append((ldap.MOD_REPLACE, MARKER_ATTRIBUTE, [value.encode()]))
        if modifications:
            self._client.modify(change.ref, modifications)
        if change.new_name is None:
            return change.ref
        new_rdn = rdn("CN", change.new_name)
        self._client.rename(change.ref, new_rdn)
        return f"{new_rdn},{parent_dn(change.ref)}"

    def change_members(self, change: AddMembers | RemoveMembers) -> None:
        self.require_managed(change.ref, change.group_id)
        operation = ldap.MOD_ADD if isinstance(change, AddMembers) else ldap.MOD_DELETE
        failures: list[str] = []
        for batch in _batches(change.members):
            try:
                self._modify_members(change.ref, operation, batch)
            except TargetError:
                failures += self._one_by_one(change.ref, operation, batch)
        if failures:
            done = len(change.members) - len(failures)
            verb = "added" if operation == ldap.MOD_ADD else "removed"
            shown = "; ".join(failures[:SHOWN_FAILURES])
            more = f" and {len(failures) - SHOWN_FAILURES} more" if len(failures) > 5 else ""
            raise RejectedError(
                f"{change.ref}: {verb} {done} of {len(change.members)} members; {shown}{more}"
            )

    def retire(self, change: RetireGroup) -> None:
        self.require_managed(change.ref, change.group_id)
        self._client.delete(change.ref)

    def require_managed(self, dn: str, group_id: str) -> None:
        """Refuse to touch a group that does not carry hrsync's marker with this id."""
        values = self._client.read(dn, [MARKER_ATTRIBUTE])
        if values is None:
            raise NotFoundError(f"{dn}: no such group")
        parsed = parse_marker(_text(values, MARKER_ATTRIBUTE) or "")
        if parsed is None or parsed[0] != group_id:
            raise RejectedError(f"{dn} is not hrsync's group {group_id}: it is left alone")

    def _modify_members(self, dn: str, operation: int, members: Sequence[str]) -> None:
        controls = [LDAPControl(PERMISSIVE_MODIFY_OID, True, None)]
        self._client.modify(dn, [(operation, "member", [m.encode() for m in members])], controls)

    def _one_by_one(self, dn: str, operation: int, members: Sequence[str]) -> list[str]:
        """Retry a refused batch member by member; the failures, for the message. A member
        already in (add) or already out (delete) is no failure: the directory is asked, since
        servers say so with different errors (Samba: entryAlreadyExists, unwillingToPerform)."""
        failures: list[str] = []
        for member in members:
            try:
                self._modify_members(dn, operation, [member])
            except TargetError as error:
                if self._is_member(dn, member) != (operation == ldap.MOD_ADD):
                    failures.append(f"{member}: {error}")
        return failures

    def _is_member(self, dn: str, member: str) -> bool:
        found = self._client.search(
            dn, f"(member={escape_filter_value(member)})", ["cn"], ldap.SCOPE_BASE
        )
        return any(True for _ in found)


def _batches(members: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(members), MEMBER_BATCH):
        yield members[start : start + MEMBER_BATCH]


def _marked(values: Values) -> bool:
    return parse_marker(_text(values, MARKER_ATTRIBUTE) or "") is not None


def _text(values: Values, name: str) -> str | None:
    raw = values.get(name)
    return raw[0].decode("utf-8", "replace") if raw else None
