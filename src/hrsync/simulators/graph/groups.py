"""The Graph simulator's groups: security and Microsoft 365 groups with their members, and the
`/groups` routes (`POST /groups`, `GET /groups`, `GET/PATCH/DELETE /groups/{id}`,
`GET /groups/{id}/members`, `POST /groups/{id}/members/$ref`,
`DELETE /groups/{id}/members/{member}/$ref`)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hrsync.simulators.graph.odata import decode_token, encode_token, parse_filter, selected
from hrsync.simulators.graph.store import GraphError, GraphStore, JsonObject, not_found

GROUP_WRITABLE = frozenset(
    {"displayName", "description", "mailEnabled", "mailNickname", "securityEnabled", "groupTypes"}
)
GROUP_REQUIRED = ("displayName", "mailEnabled", "mailNickname", "securityEnabled")
GROUP_DEFAULT_SELECT = ("id", "displayName", "description", "mailNickname", "groupTypes")
GROUPS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#groups"
PAGE = 100


@dataclass
class GroupDirectory:
    """Groups by id and their members' ids, next to the users of `store` (whose lock it
    shares, so a user deleted leaves every group at once)."""

    store: GraphStore
    groups: dict[str, JsonObject] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.store.on_delete.append(self._forget_member)

    def handle(
        self,
        method: str,
        segments: tuple[str, ...],
        query: Mapping[str, str],
        body: Callable[[], dict[str, Any]],
        base: str,
    ) -> tuple[int, object]:
        match (method, *segments):
            case ("POST", "groups"):
                return 201, self.create(body())
            case ("GET", "groups"):
                return 200, self.list(query, base)
            case ("GET", "groups", key):
                return 200, {"@odata.context": GROUPS_CONTEXT + "/$entity"} | self.find(key)
            case ("PATCH", "groups", key):
                self.update(key, body())
                return 204, None
            case ("DELETE", "groups", key):
                self.delete(key)
                return 204, None
            case ("GET", "groups", key, "members"):
                return 200, self.list_members(key, query, base)
            case ("POST", "groups", key, "members", "$ref"):
                self.add_member(key, _referenced(body()))
                return 204, None
            case ("DELETE", "groups", key, "members", member, "$ref"):
                self.remove_member(key, member)
                return 204, None
        raise GraphError(400, "BadRequest", "Unsupported request on groups.")

    def find(self, key: str) -> JsonObject:
        with self.store.lock:
            group = self.groups.get(key)
            if group is None:
                raise not_found(key)
            return copy.deepcopy(group)

    def create(self, body: Mapping[str, Any]) -> JsonObject:
        _check(body)
        missing = [name for name in GROUP_REQUIRED if body.get(name) is None]
        if missing:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Invalid value specified for property '{missing[0]}' of resource 'Group'.",
            )
        with self.store.lock:
            group = {"id": str(uuid.uuid4()), "groupTypes": [], **copy.deepcopy(dict(body))}
            self.groups[group["id"]] = group
            self.members[group["id"]] = []
            return {"@odata.context": GROUPS_CONTEXT + "/$entity"} | copy.deepcopy(group)

    def update(self, key: str, body: Mapping[str, Any]) -> None:
        _check(body)
        with self.store.lock:
            self.find(key)
            self.groups[key].update(copy.deepcopy(dict(body)))

    def delete(self, key: str) -> None:
        with self.store.lock:
            self.find(key)
            del self.groups[key]
            del self.members[key]

    def list(self, query: Mapping[str, str], base: str) -> JsonObject:
        with self.store.lock:
            groups = sorted(self.groups.values(), key=lambda g: g["id"])
        return _page(groups, dict(query), f"{base}/groups", GROUP_DEFAULT_SELECT)

    def list_members(self, key: str, query: Mapping[str, str], base: str) -> JsonObject:
        with self.store.lock:
            self.find(key)
            found = [self.store.shown(m) for m in self.members[key]]
        members = [{"@odata.type": "#microsoft.graph.user", **m} for m in found]
        return _page(members, dict(query), f"{base}/groups/{key}/members", ("id", "displayName"))

    def add_member(self, key: str, member: str) -> None:
        with self.store.lock:
            self.find(key)
            user_id = self.store.find(member)["id"]
            if user_id in self.members[key]:
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    "One or more added object references already exist for the following "
                    "modified properties: 'members'.",
                )
            self.members[key].append(user_id)

    def remove_member(self, key: str, member: str) -> None:
        with self.store.lock:
            self.find(key)
            if member not in self.members[key]:
                raise not_found(member)
            self.members[key].remove(member)

    def reset(self) -> None:
        with self.store.lock:
            self.groups.clear()
            self.members.clear()

    def _forget_member(self, user_id: str) -> None:
        for members in self.members.values():
            if user_id in members:
                members.remove(user_id)


def _page(
    items: list[JsonObject], query: dict[str, str], link: str, default: tuple[str, ...]
) -> JsonObject:
    """One page of `items` filtered and selected as the query says; `$skiptoken` continues."""
    after = ""
    if token := query.pop("$skiptoken", None):
        state = decode_token(token)
        query, after = dict(state["query"]), str(state["after"])
    if filter_text := query.get("$filter"):
        keep = parse_filter(filter_text)
        items = [item for item in items if keep(item)]
    items = [item for item in items if item["id"] > after]
    top = int(query.get("$top") or PAGE)
    page, rest = items[:top], items[top:]
    select = query.get("$select")
    names = tuple(dict.fromkeys(["id", *select.split(",")])) if select else default
    answer: JsonObject = {"value": [selected(item, names, with_manager=False) for item in page]}
    if rest:
        answer["@odata.nextLink"] = (
            f"{link}?$skiptoken={encode_token({'query': query, 'after': page[-1]['id']})}"
        )
    return answer


def _check(body: Mapping[str, Any]) -> None:
    for name in body:
        if name not in GROUP_WRITABLE:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Property '{name}' does not exist as a declared property or extension property.",
            )


def _referenced(body: Mapping[str, Any]) -> str:
    reference = body.get("@odata.id")
    if not isinstance(reference, str) or "/" not in reference:
        raise GraphError(400, "Request_BadRequest", "Invalid OData reference: '@odata.id'.")
    return reference.rstrip("/").rpartition("/")[2]
