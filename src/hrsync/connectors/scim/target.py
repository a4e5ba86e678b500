"""A SCIM 2.0 app as a target: read its users (and hrsync's groups), apply planned changes.

Users are addressed by their SCIM id (the account's ref and id alike); a user the plan creates
has a provisional ref until the app answers with its id (hrsync.engine.apply). Attributes are
read and written by SCIM path (hrsync.connectors.scim.paths); updates go by PATCH of the paths
that changed, or by PUT of the whole user where the app has no PATCH. Extension attributes are
sent only when the app's /Schemas has the extension, so an app without Winningtemp's extension
simply does not get gender and birthday.

hrsync's groups carry `externalId = hrsync-group:<path id>`; other groups are never touched. An
app has nowhere to keep hrsync's "empty since" mark, so hrsync keeps it (`GroupMarks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from typing import assert_never

import structlog

from hrsync.connectors.scim.client import ScimClient
from hrsync.connectors.scim.config import ScimConfig
from hrsync.connectors.scim.discovery import ServiceInfo
from hrsync.connectors.scim.errors import ScimUnavailableError, translate_failure
from hrsync.connectors.scim.group_naming import GROUP_MARKER, PARENT
from hrsync.connectors.scim.patch import MANAGER_PATH, PatchOp, build_member_patch, build_patch
from hrsync.connectors.scim.paths import (
    Resource,
    read_path,
    split_path,
    wire_value,
    write_path,
)
from hrsync.connectors.scim.policy import ScimPolicy
from hrsync.connectors.scim.profile import BOOLEAN_PATHS
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
from hrsync.domain.errors import RejectedError, TargetError
from hrsync.domain.groups import EMPTY_SINCE, HRSYNC_ID, Group
from hrsync.domain.ids import AccountId, GroupId
from hrsync.domain.profile import TargetProfile
from hrsync.ports import Applied

log = structlog.get_logger(__name__)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
BULK_BATCH = 100
"""Creates per /Bulk request at most, whatever more the app allows: a refused or lost request
costs at most this many retries."""
GroupMarks = MutableMapping[str, str]
"""Group id → the ISO day hrsync found the group empty, kept by hrsync for the app."""


class ScimTarget:
    """Users (and hrsync's groups) of one SCIM app. Only `apply` writes to it."""

    key = "scim"

    def __init__(
        self,
        config: ScimConfig,
        policy: ScimPolicy,
        *,
        client: ScimClient | None = None,
        marks: GroupMarks | None = None,
    ) -> None:
        self.config = config
        self.policy = policy
        self._client = client or ScimClient.from_config(config)
        self._marks: GroupMarks = marks if marks is not None else {}

    @property
    def profile(self) -> TargetProfile:
        return self.policy.profile

    def close(self) -> None:
        self._client.close()

    # --- what the app can do -----------------------------------------------------------------

    @property
    def info(self) -> ServiceInfo:
        return self._client.info

    def check(self) -> None:
        """Discovery; RejectedError when the app has no users to provision."""
        info = self._client.discover()
        if not info.user_endpoint:
            raise RejectedError(f"{self.config.url} lists no User resource type")

    def describe(self) -> str:
        """What discovery found, in words (for "Test connection" and `hrsync scim check`)."""
        self.check()
        return describe(self.info)

    def prepare(self) -> None:
        """Discover before a run writes: what the app supports decides PATCH or PUT."""
        self._client.discover()

    def read_reserved_names(self) -> Iterator[tuple[str, str]]:
        return iter(())  # every userName in the app is among the users read

    # --- reading -----------------------------------------------------------------------------

    @property
    def _paths(self) -> list[str]:
        """The paths hrsync keeps: the policy's rules, the person id and the manager."""
        paths = [rule.attribute for rule in self.policy.all_rules]
        return list(dict.fromkeys([*paths, self.policy.owner_attribute, MANAGER_PATH]))

    def read_accounts(self) -> Iterator[Account]:
        paths = self._paths
        for user in self._client.iter_users():
            user_id = str(user.get("id") or "")
            if not user_id:
                continue
            attributes = {path: read_path(user, path) for path in paths}
            active = user.get("active")
            yield Account(
                account_id=AccountId(user_id),
                ref=user_id,
                is_enabled=active is not False,
                attributes={k: v for k, v in attributes.items() if v is not None},
            )

    def group_parent_path(self) -> str | None:
        """The app's Group attribute for the parent's externalId (discovery), or None."""
        return self.info.group_parent_path

    def read_groups(self) -> tuple[list[Group], frozenset[str]]:
        """hrsync's groups with their members; the app's other groups are never touched."""
        groups = []
        for found in self._client.iter_groups():
            external = str(found.get("externalId") or "")
            if not external.startswith(GROUP_MARKER) or not found.get("id"):
                continue
            group_id = GroupId(external.removeprefix(GROUP_MARKER))
            attributes: Attributes = {"displayName": found.get("displayName")}
            if parent_path := self.group_parent_path():
                attributes[PARENT] = read_path(found, parent_path)
            if since := self._marks.get(group_id):
                attributes[EMPTY_SINCE] = since
            members = tuple(
                str(member["value"])
                for member in found.get("members") or ()
                if isinstance(member, dict) and member.get("value")
            )
            groups.append(Group(group_id, str(found["id"]), attributes, members))
        return groups, frozenset()

    # --- writing -----------------------------------------------------------------------------

    def apply(self, change: Change) -> Applied:
        applied = self._apply(change)
        log.debug("scim.change_applied", kind=kind_of(change), ref=applied.ref)
        return applied

    def _apply(self, change: Change) -> Applied:
        match change:
            case CreateAccount():
                return self._create(change)
            case UpdateAttributes():
                values = {k: (change.before.get(k), v) for k, v in change.after.items()}
                self._update(change.ref, values)
            case EnableAccount() | DisableAccount():
                active = isinstance(change, EnableAccount)
                self._patch_user(change.ref, [{"op": "replace", "path": "active", "value": active}])
            case DeleteAccount():
                self._client.delete_user(change.ref)
            case SetManager():
                self._update(change.ref, {MANAGER_PATH: (change.before, change.after)})
            case MoveAccount() | RenameAccount():
                raise RejectedError(f"a SCIM app has no {kind_of(change)}: the plan is not its own")
            case ManualStep():
                raise RejectedError(f"a manual step is for an admin, not a target: {change.reason}")
            case CreateGroup() | UpdateGroup() | AddMembers() | RemoveMembers() | RetireGroup():
                return self._apply_to_group(change)
            case _:
                assert_never(change)
        return Applied(ref=change.ref)

    def _create(self, change: CreateAccount) -> Applied:
        created = self._client.create_user(self._new_user(change))
        return _created(change, str(created.get("id") or ""))

    def _new_user(self, change: CreateAccount) -> Resource:
        attributes = dict(change.attributes)
        resource = user_resource(attributes, self._writable(attributes))
        resource["active"] = change.is_enabled
        return resource

    # --- batches (hrsync.ports.BatchTarget) ----------------------------------------------------

    def batch_size(self) -> int:
        """Creates per /Bulk request: none where the app has no bulk support."""
        info = self.info
        if not info.supports_bulk:
            return 0
        return min(info.bulk_max_operations or BULK_BATCH, BULK_BATCH)

    def apply_batch(self, changes: Sequence[CreateAccount]) -> list[Applied | TargetError]:
        """The creates as POST operations of /Bulk requests; per create, the user's id from
        its location, or the app's refusal worded as a single POST's would be."""
        operations = [
            {"method": "POST", "path": "/Users", "bulkId": str(n), "data": self._new_user(c)}
            for n, c in enumerate(changes)
        ]
        answers = {str(a.get("bulkId")): a for a in self._client.bulk(operations)}
        results = [_bulk_result(c, answers.get(str(n))) for n, c in enumerate(changes)]
        log.debug("scim.bulk_applied", creates=len(changes))
        return results

    def _writable(self, attributes: Attributes) -> list[str]:
        """The paths with a value whose extension (if any) the app has."""
        extensions = set(self.info.user_extensions) if self._has_schemas else None
        paths = []
        for path, value in attributes.items():
            if value is None:
                continue
            urn, _ = split_path(path)
            if urn is not None and extensions is not None and urn not in extensions:
                continue
            paths.append(path)
        return paths

    @property
    def _has_schemas(self) -> bool:
        return bool(self.info.schemas)

    def _update(self, user_id: str, values: dict[str, tuple[str | None, str | None]]) -> None:
        kept = set(self._writable(dict.fromkeys(values, "x")))
        changes = {
            path: (
                wire_value(before, is_boolean=path in BOOLEAN_PATHS),
                wire_value(after, is_boolean=path in BOOLEAN_PATHS),
            )
            for path, (before, after) in values.items()
            if path in kept
        }
        operations = build_patch(changes)
        if operations:
            self._patch_user(user_id, operations, values)

    def _patch_user(
        self,
        user_id: str,
        operations: list[PatchOp],
        values: dict[str, tuple[str | None, str | None]] | None = None,
    ) -> None:
        """PATCH where the app has it, else PUT of the user as read now with the changes."""
        full: Resource = {}
        if not self.info.supports_patch:
            full = self._replaced(user_id, operations, values or {})
        self._client.update_user(user_id, operations, full)

    def _replaced(
        self,
        user_id: str,
        operations: Iterable[PatchOp],
        values: dict[str, tuple[str | None, str | None]],
    ) -> Resource:
        current = self._client.get_user(user_id)
        paths = self._paths
        attributes = {path: read_path(current, path) for path in paths}
        attributes |= {path: after for path, (_, after) in values.items()}
        resource = user_resource(attributes, self._writable(attributes)) | {"id": user_id}
        resource["userName"] = resource.get("userName") or current.get("userName")
        resource["active"] = current.get("active", True)
        for operation in operations:
            if operation.get("path") == "active":
                resource["active"] = operation.get("value")
        return resource

    def _apply_to_group(
        self, change: CreateGroup | UpdateGroup | AddMembers | RemoveMembers | RetireGroup
    ) -> Applied:
        match change:
            case CreateGroup():
                resource: Resource = {
                    "schemas": [GROUP_SCHEMA],
                    "displayName": change.attributes.get("displayName") or change.group_id,
                    "externalId": GROUP_MARKER + change.group_id,
                }
                parent_path, parent = self.group_parent_path(), change.attributes.get(PARENT)
                if parent_path and parent:
                    write_path(resource, parent_path, parent, is_boolean=False)
                    resource["schemas"] += [key for key in resource if key.startswith("urn:")]
                created = self._client.create_group(resource)
                return Applied(ref=str(created.get("id") or change.ref))
            case UpdateGroup():
                self._update_group(change)
            case AddMembers():
                self._change_group(change.ref, build_member_patch(change.members, ()))
            case RemoveMembers():
                self._change_group(change.ref, build_member_patch((), change.members))
            case RetireGroup():
                self._client.delete_group(change.ref)
                self._marks.pop(change.group_id, None)
        return Applied(ref=change.ref)

    def _update_group(self, change: UpdateGroup) -> None:
        after = change.after
        group_id = GroupId(after.get(HRSYNC_ID) or change.group_id)
        operations: list[PatchOp] = []
        if "displayName" in after:
            name = after["displayName"]
            operations.append({"op": "replace", "path": "displayName", "value": name})
        if PARENT in after and (parent_path := self.group_parent_path()):
            operations.append({"op": "replace", "path": parent_path, "value": after[PARENT]})
        if group_id != change.group_id:
            marker = GROUP_MARKER + group_id
            operations.append({"op": "replace", "path": "externalId", "value": marker})
            self._marks.pop(change.group_id, None)
        if operations:
            self._change_group(change.ref, operations)
        if EMPTY_SINCE in after:
            since = after[EMPTY_SINCE]
            if since:
                self._marks[group_id] = since
            else:
                self._marks.pop(group_id, None)

    def _change_group(self, group_id: str, operations: list[PatchOp]) -> None:
        """PATCH where the app has it, else PUT of the group as read now with the changes."""
        full: Resource = {}
        if not self.info.supports_patch:
            full = _patched_group(self._client.get_group(group_id), operations)
        self._client.update_group(group_id, operations, full)


def _created(change: CreateAccount, user_id: str) -> Applied:
    if not user_id:
        name = change.attributes.get("userName")
        raise RejectedError(f"create {name}: the app returned no id")
    return Applied(ref=user_id, account_id=AccountId(user_id))


def _bulk_result(change: CreateAccount, answer: Resource | None) -> Applied | TargetError:
    """One create's result in a /Bulk answer (RFC 7644 §3.7.3): 201 with the new user's
    location, or an error response with its status, scimType and detail."""
    name = change.attributes.get("userName")
    if answer is None:
        # Whether the user exists is unknown: the next run finds it by externalId if it does.
        return ScimUnavailableError(f"POST /Bulk: the app's answer left out the user {name}")
    status = _status(answer.get("status"))
    if 200 <= status < 300:
        location = str(answer.get("location") or "")
        response = answer.get("response")
        user_id = location.rstrip("/").rpartition("/")[2] if location else ""
        if not user_id and isinstance(response, dict):
            user_id = str(response.get("id") or "")
        try:
            return _created(change, user_id)
        except TargetError as refused:
            return refused
    response = answer.get("response")
    problem = response if isinstance(response, dict) else {}
    scim_type = problem.get("scimType")
    detail = problem.get("detail")
    return translate_failure(
        f"POST /Users {name} (in /Bulk)",
        status,
        str(scim_type) if scim_type else None,
        str(detail) if detail else None,
    )


def _status(value: object) -> int:
    """A bulk operation's status: a string ("201") by the RFC, a number from some servers."""
    try:
        return int(str(value).strip()[:3])
    except ValueError:
        return 500


def user_resource(attributes: Attributes, paths: Iterable[str]) -> Resource:
    """A User resource with the values of `paths`, each extension it writes into declared."""
    resource: Resource = {"schemas": [USER_SCHEMA]}
    for path in paths:
        write_path(resource, path, attributes[path], is_boolean=path in BOOLEAN_PATHS)
    resource["schemas"] += [key for key in resource if key.startswith("urn:")]
    return resource


def _patched_group(group: Resource, operations: list[PatchOp]) -> Resource:
    """The group with the operations `_apply_to_group` sends done on it: members added and
    removed (`members[value eq "id"]`), displayName and externalId replaced."""
    members = [m for m in group.get("members") or () if isinstance(m, dict)]
    result: Resource = {k: v for k, v in group.items() if k not in ("meta", "members")}
    for operation in operations:
        path = operation.get("path", "")
        if operation["op"] == "add" and path == "members":
            known = {m.get("value") for m in members}
            members += [m for m in operation.get("value") or () if m.get("value") not in known]
        elif operation["op"] == "remove" and path.startswith("members[value eq "):
            gone = path.removeprefix("members[value eq ").removesuffix("]").strip('"')
            members = [m for m in members if m.get("value") != gone]
        elif operation["op"] == "replace":
            write_path(result, path, operation.get("value"), is_boolean=False)
    result["members"] = [{"value": m["value"]} for m in members if m.get("value")]
    return result


def describe(info: ServiceInfo) -> str:
    """What discovery found, as an admin reads it."""

    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    extensions = ", ".join(info.user_extensions) or "none"
    parts = [
        f"PATCH {yes(info.supports_patch)}",
        f"filter {yes(info.supports_filter)}",
        f"bulk {yes(info.supports_bulk)}",
        f"ETags {yes(info.supports_etag)}",
        f"groups {yes(info.has_groups)}",
        f"user extensions: {extensions}",
    ]
    return "SCIM 2.0: " + "; ".join(parts) + "".join(f"\nNote: {note}" for note in info.notes)
