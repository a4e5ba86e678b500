"""The Graph resources the simulator serves under `/v1.0`: users, their manager, users/delta.

`GraphApi.handle` answers one request already authenticated and past the faults, so a `$batch`
runs its requests through the same code as single ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hrsync.simulators.graph.groups import GroupDirectory
from hrsync.simulators.graph.odata import (
    decode_token,
    encode_token,
    parse_filter,
    parse_select,
    selected,
    unsupported,
)
from hrsync.simulators.graph.store import GraphError, GraphStore, JsonObject, not_found

MAX_TOP = 999
DEFAULT_TOP = 100
DELTA_PAGE = 200
USERS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#users"


@dataclass(frozen=True, slots=True)
class GraphRequest:
    method: str
    segments: tuple[str, ...]
    """The path after `/v1.0`, decoded: ("users", id, "manager", "$ref")."""
    query: Mapping[str, str]
    body: bytes
    base: str
    """The Graph base URL as the client reached it, for `@odata.nextLink`."""


@dataclass(frozen=True, slots=True)
class GraphAnswer:
    status: int
    value: object = None


class GraphApi:
    """Users CRUD, manager references and delta over one store. `is_lagging` says whether a
    just-created user must still answer 404 (eventual consistency). `organization`: the
    tenant's one organization resource (`GET /organization`)."""

    def __init__(
        self,
        store: GraphStore,
        is_lagging: Callable[[str], bool],
        created: Callable[[str], None],
        organization: JsonObject | None = None,
    ) -> None:
        self.store = store
        self.is_lagging = is_lagging
        self.created = created
        self.groups = GroupDirectory(store)
        self.organization = organization or {}

    def handle(self, request: GraphRequest) -> GraphAnswer:
        method, segments = request.method, request.segments
        if (other := self._not_users(request)) is not None:
            return other
        match (method, *segments):
            case ("GET", "users"):
                return GraphAnswer(200, self._list(request))
            case ("POST", "users"):
                return GraphAnswer(201, self._create(request))
            case ("GET", "users", "delta()" | "delta"):
                return GraphAnswer(200, self._delta(request))
            case ("GET", "users", key):
                user = self._user(key)
                names = parse_select(request.query.get("$select"))
                return GraphAnswer(
                    200,
                    {"@odata.context": USERS_CONTEXT + "/$entity"}
                    | selected(user, names, with_manager=False),
                )
            case ("PATCH", "users", key):
                self.store.update(self._user(key)["id"], _body(request.body))
                return GraphAnswer(204)
            case ("DELETE", "users", key):
                self.store.delete(self._user(key)["id"])
                return GraphAnswer(204)
            case ("GET", "users", key, "manager"):
                return GraphAnswer(200, self.store.manager_of(self._user(key)["id"]))
            case ("GET", "users", key, "manager", "$ref"):
                manager = self.store.manager_of(self._user(key)["id"])
                return GraphAnswer(
                    200, {"@odata.id": f"{request.base}/directoryObjects/{manager['id']}"}
                )
            case ("PUT", "users", key, "manager", "$ref"):
                user_id = self._user(key)["id"]
                manager_id = self._user(_referenced(_body(request.body)))["id"]
                self.store.set_manager(user_id, manager_id)
                return GraphAnswer(204)
            case ("DELETE", "users", key, "manager", "$ref"):
                self.store.clear_manager(self._user(key)["id"])
                return GraphAnswer(204)
        if segments[:1] == ("users",):
            raise GraphError(
                405, "Request_BadRequest", f"The HTTP method '{method}' is not allowed here."
            )
        raise GraphError(
            400,
            "BadRequest",
            f"Resource not found for the segment '{segments[0] if segments else ''}'.",
        )

    def _not_users(self, request: GraphRequest) -> GraphAnswer | None:
        """Groups and the organization; None for the users' endpoints."""
        method, segments = request.method, request.segments
        if segments[:1] == ("groups",):
            status, value = self.groups.handle(
                method, segments, request.query, lambda: _body(request.body), request.base
            )
            return GraphAnswer(status, value)
        if method == "GET" and segments == ("organization",):
            return GraphAnswer(200, self._organization(request))
        return None

    def _organization(self, request: GraphRequest) -> JsonObject:
        found = dict(self.organization)
        if request.query.get("$select"):
            found = selected(found, parse_select(request.query["$select"]), with_manager=False)
        return {"@odata.context": request.base + "/$metadata#organization", "value": [found]}

    def _user(self, key: str) -> JsonObject:
        user = self.store.shown(key)
        if self.is_lagging(user["id"]):
            raise not_found(key)
        return user

    def _create(self, request: GraphRequest) -> JsonObject:
        user = self.store.create(_body(request.body))
        self.created(user["id"])
        return {"@odata.context": USERS_CONTEXT + "/$entity"} | user

    def _list(self, request: GraphRequest) -> JsonObject:
        query = dict(request.query)
        token = query.pop("$skiptoken", None)
        if token is not None:
            state = decode_token(token)
            query, after = dict(state["query"]), str(state["after"])
        else:
            after = ""
        top = _top(query.get("$top"))
        users = sorted(self.store.all_users(), key=lambda u: u["id"])
        if filter_text := query.get("$filter"):
            keep = parse_filter(filter_text)
            users = [user for user in users if keep(user)]
        users = [user for user in users if user["id"] > after]
        page, rest = users[:top], users[top:]
        expand = query.get("$expand", "")
        with_manager = expand.startswith("manager")
        if expand and not with_manager:
            raise unsupported(f"Expanding '{expand}' is not supported.")
        names = parse_select(query.get("$select"))
        answer: JsonObject = {
            "@odata.context": USERS_CONTEXT,
            "value": [selected(user, names, with_manager=with_manager) for user in page],
        }
        if rest:
            next_token = encode_token({"query": query, "after": page[-1]["id"]})
            answer["@odata.nextLink"] = f"{request.base}/users?$skiptoken={next_token}"
        return answer

    def _delta(self, request: GraphRequest) -> JsonObject:
        """Round one lists every user; its last page carries a deltaLink; following it lists
        the users changed since (deleted ones as `@removed`), and a new deltaLink."""
        query = request.query
        if token := query.get("$skiptoken"):
            state = decode_token(token)
        elif token := query.get("$deltatoken"):
            state = decode_token(token) | {"offset": 0}
            if state.get("epoch", 0) != self.store.delta_epoch:
                raise GraphError(
                    410,
                    "syncStateNotFound",
                    "The requested sync state was not found; start a new delta round.",
                )
        else:
            select = query.get("$select") or ""
            expand = query.get("$expand", "").startswith("manager")
            state = {"since": -1, "offset": 0, "select": select, "expand": expand}
        upto = int(state.get("upto") or self.store.sequence)
        since, offset = int(state["since"]), int(state["offset"])
        names = parse_select(state.get("select") or None)
        ids = self.store.ids_since(since, upto)
        page = ids[offset : offset + DELTA_PAGE]
        value = [self._delta_entry(user_id, names, bool(state.get("expand"))) for user_id in page]
        answer: JsonObject = {"@odata.context": USERS_CONTEXT + "/delta", "value": value}
        base = f"{request.base}/users/delta"
        if offset + DELTA_PAGE < len(ids):
            skip = {**state, "upto": upto, "offset": offset + DELTA_PAGE}
            answer["@odata.nextLink"] = f"{base}?$skiptoken={encode_token(skip)}"
        else:
            delta = {
                "since": upto,
                "select": state.get("select") or "",
                "expand": state.get("expand"),
                "epoch": self.store.delta_epoch,
            }
            answer["@odata.deltaLink"] = f"{base}?$deltatoken={encode_token(delta)}"
        return answer

    def _delta_entry(self, user_id: str, names: tuple[str, ...], expand: bool) -> JsonObject:
        """A changed user; with `$expand=manager`, its manager as `manager@delta` (a list of
        one, or empty once the manager is removed)."""
        if user_id not in self.store.users:
            return {"id": user_id, "@removed": {"reason": "changed"}}
        user = self.store.shown(user_id)
        entry = selected(user, names, with_manager=False)
        if expand:
            manager = user.get("manager")
            entry["manager@delta"] = [manager] if manager else []
        return entry


def _top(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_TOP
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_TOP:
        raise GraphError(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{raw}'. Must be between 1 and {MAX_TOP} inclusive.",
        )
    return int(raw)


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
    return body


def _referenced(body: Mapping[str, Any]) -> str:
    """The id at the end of `@odata.id` (`…/directoryObjects/{id}` or `…/users/{id}`)."""
    reference = body.get("@odata.id")
    if not isinstance(reference, str) or "/" not in reference:
        raise GraphError(
            400, "Request_BadRequest", "Invalid OData reference: '@odata.id' is missing."
        )
    return reference.rstrip("/").rpartition("/")[2]
