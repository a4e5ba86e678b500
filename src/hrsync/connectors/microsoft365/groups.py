"""hrsync's groups in Entra: security groups whose description carries the marker
`hrsync-group:<path id>`; other groups are never read or touched. Members are users by object
id, added through `members/$ref` (20 to a `$batch`) and removed one by one. Entra has nowhere
for hrsync's "empty since" mark, so hrsync keeps it (`GroupMarks`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import MutableMapping, Sequence

import structlog

from hrsync.connectors.microsoft365.client import GraphClient, Json, failure_of
from hrsync.connectors.microsoft365.errors import GraphRejectedError
from hrsync.domain.account import Attributes
from hrsync.domain.changes import AddMembers, CreateGroup, RemoveMembers, RetireGroup, UpdateGroup
from hrsync.domain.groups import EMPTY_SINCE, HRSYNC_ID, Group
from hrsync.domain.ids import GroupId
from hrsync.mapping.names import login_part
from hrsync.ports import Applied

log = structlog.get_logger(__name__)

GROUP_MARKER = "hrsync-group:"
_MARKED = re.compile(r"hrsync-group:(\S+)")
BATCH_SIZE = 20
ALREADY_MEMBER = "already exist"
GroupMarks = MutableMapping[str, str]
"""Group id → the ISO day hrsync found the group empty, kept by hrsync for the tenant."""
GroupChange = CreateGroup | UpdateGroup | AddMembers | RemoveMembers | RetireGroup


class GraphGroups:
    """hrsync's groups of one tenant, read and changed through `client`."""

    def __init__(
        self,
        client: GraphClient,
        graph_url: str,
        marks: GroupMarks,
        is_young: set[str],
    ) -> None:
        self._client = client
        self._graph_url = graph_url
        self._marks = marks
        self._young = is_young

    def read(self) -> tuple[list[Group], frozenset[str]]:
        """hrsync's groups with their members' object ids."""
        groups = []
        params = {"$select": "id,displayName,description", "$top": "999"}
        for found in self._client.pages("/groups", params):
            match = _MARKED.search(str(found.get("description") or ""))
            if match is None or not found.get("id"):
                continue
            group_id = GroupId(match.group(1))
            attributes: Attributes = {"displayName": found.get("displayName")}
            if since := self._marks.get(group_id):
                attributes[EMPTY_SINCE] = since
            groups.append(Group(group_id, str(found["id"]), attributes, self._members(found)))
        return groups, frozenset()

    def _members(self, group: Json) -> tuple[str, ...]:
        path = f"/groups/{group['id']}/members"
        params = {"$select": "id", "$top": "999"}
        return tuple(str(m["id"]) for m in self._client.pages(path, params) if m.get("id"))

    def apply(self, change: GroupChange) -> Applied:
        match change:
            case CreateGroup():
                return self._create(change)
            case UpdateGroup():
                self._update(change)
            case AddMembers():
                self._add(change.ref, change.members)
            case RemoveMembers():
                for member in change.members:
                    path = f"/groups/{change.ref}/members/{member}/$ref"
                    self._client.request("DELETE", path, expected=(204, 404))
            case RetireGroup():
                self._client.request("DELETE", f"/groups/{change.ref}", expected=(204, 404))
                self._marks.pop(change.group_id, None)
        return Applied(ref=change.ref)

    def _create(self, change: CreateGroup) -> Applied:
        name = change.attributes.get("displayName") or change.group_id
        body = {
            "displayName": name,
            "description": description(change.group_id),
            "mailEnabled": False,
            "securityEnabled": True,
            # Required even where no mail is sent; unique enough that two Finance stay apart.
            "mailNickname": f"{login_part(name)[:40] or 'group'}-{uuid.uuid4().hex[:8]}",
        }
        created = self._client.request("POST", "/groups", body=body, expected=(201,))
        group_id = str(created.get("id") or "") if isinstance(created, dict) else ""
        if not group_id:
            raise GraphRejectedError(f"POST /groups {name}: Graph returned no id")
        return Applied(ref=group_id)

    def _update(self, change: UpdateGroup) -> None:
        after = change.after
        group_id = GroupId(after.get(HRSYNC_ID) or change.group_id)
        body: Json = {}
        if "displayName" in after:
            body["displayName"] = after["displayName"]
        if group_id != change.group_id:
            body["description"] = description(group_id)
            self._marks.pop(change.group_id, None)
        if body:
            self._client.request("PATCH", f"/groups/{change.ref}", body=body, expected=(204,))
        if EMPTY_SINCE in after:
            since = after[EMPTY_SINCE]
            if since:
                self._marks[group_id] = since
            else:
                self._marks.pop(group_id, None)

    def _add(self, group_ref: str, members: Sequence[str]) -> None:
        """Members 20 to a `$batch`; one already in the group counts as added."""
        for start in range(0, len(members), BATCH_SIZE):
            chunk = members[start : start + BATCH_SIZE]
            requests = [
                {
                    "id": str(n),
                    "method": "POST",
                    "url": f"/groups/{group_ref}/members/$ref",
                    "headers": {"Content-Type": "application/json"},
                    "body": {"@odata.id": f"{self._graph_url}/directoryObjects/{member}"},
                }
                for n, member in enumerate(chunk)
            ]
            young = any(member in self._young for member in chunk)
            answers = self._client.batch(requests, retry_not_found=young)
            for n, member in enumerate(chunk):
                answer = answers.get(str(n))
                if answer is None or answer.status == 204:
                    continue
                error = failure_of(f"POST /groups/{group_ref}/members/$ref {member}", answer)
                if ALREADY_MEMBER not in str(error):
                    raise error


def description(group_id: str) -> str:
    """What a group's description says: who made it, and the marker that finds it again."""
    return f"Managed by hrsync from HR; do not edit. {GROUP_MARKER}{group_id}"
