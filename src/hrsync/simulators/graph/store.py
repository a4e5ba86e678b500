"""The Graph simulator's directory: users with their managers, unique names, and a change log
that `users/delta` reads. Thread-safe; every value handed out is a copy."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JsonObject = dict[str, Any]

WRITABLE = frozenset(
    {
        "accountEnabled",
        "displayName",
        "givenName",
        "surname",
        "jobTitle",
        "department",
        "companyName",
        "employeeId",
        "employeeType",
        "employeeHireDate",
        "employeeLeaveDateTime",
        "officeLocation",
        "mobilePhone",
        "businessPhones",
        "usageLocation",
        "mail",
        "mailNickname",
        "userPrincipalName",
        "passwordProfile",
        "onPremisesExtensionAttributes",
        "city",
        "country",
        "streetAddress",
        "postalCode",
        "preferredLanguage",
    }
)
"""User properties a client may set (Graph refuses others with Request_BadRequest)."""
REQUIRED_ON_CREATE = ("accountEnabled", "displayName", "mailNickname", "userPrincipalName")
EXTENSION_NAMES = tuple(f"extensionAttribute{n}" for n in range(1, 16))
UNIQUE = ("userPrincipalName", "mailNickname")
NAMED = (*UNIQUE, "mail")
"""The properties `GraphStore._names` indexes: the unique ones, and mail (a UPN may not be it)."""


class GraphError(Exception):
    """An OData error answer: HTTP status, Graph's error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(key: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


@dataclass
class GraphStore:
    """Users by id, in creation order; `changes` is the delta log: (sequence, user id)."""

    users: dict[str, JsonObject] = field(default_factory=dict)
    managers: dict[str, str] = field(default_factory=dict)
    changes: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    on_delete: list[Callable[[str], None]] = field(default_factory=list)
    """Called with a deleted user's id, under the lock (groups drop the member)."""
    _sequence: int = 0
    _names: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    """(property, casefolded value) → ids of the users holding it, for NAMED."""
    delta_epoch: int = 0
    """Bumped by `expire_delta_links`: deltaLinks of an earlier epoch answer 410."""

    # --- reading -------------------------------------------------------------------------------

    def find(self, key: str) -> JsonObject:
        """The user with this id or userPrincipalName (case-insensitive), as stored."""
        with self.lock:
            if key in self.users:
                return self.users[key]
            folded = key.casefold()
            for user in self.users.values():
                if str(user.get("userPrincipalName", "")).casefold() == folded:
                    return user
        raise not_found(key)

    def all_users(self) -> list[JsonObject]:
        with self.lock:
            return [self._shown(user) for user in self.users.values()]

    def shown(self, key: str) -> JsonObject:
        with self.lock:
            return self._shown(self.find(key))

    def _shown(self, user: JsonObject) -> JsonObject:
        """A copy as Graph answers it: never the password."""
        shown = {k: copy.deepcopy(v) for k, v in user.items() if k != "passwordProfile"}
        manager = self.managers.get(user["id"])
        if manager is not None:
            shown["manager"] = {"@odata.type": "#microsoft.graph.user", "id": manager}
        return shown

    @property
    def sequence(self) -> int:
        with self.lock:
            return self._sequence

    def ids_since(self, since: int, upto: int) -> list[str]:
        """Every user (the first round of a delta, `since` < 0), else the ids of users changed
        or deleted in (since, upto], each once, in the order of their first change."""
        with self.lock:
            if since < 0:
                return sorted(self.users)
            seen: dict[str, None] = {}
            for number, user_id in self.changes:
                if since < number <= upto:
                    seen[user_id] = None
            return list(seen)

    # --- writing -------------------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> JsonObject:
        _check_writable(body)
        missing = [name for name in REQUIRED_ON_CREATE if body.get(name) in (None, "")]
        if missing:
            raise _invalid(missing[0])
        profile = body.get("passwordProfile")
        if not isinstance(profile, dict) or not profile.get("password"):
            raise _invalid("passwordProfile")
        with self.lock:
            self._check_unique(body, None)
            user: JsonObject = {
                "id": str(uuid.uuid4()),
                "createdDateTime": _now(),
                "businessPhones": [],
                **copy.deepcopy(dict(body)),
            }
            user["onPremisesExtensionAttributes"] = _extensions(
                {}, body.get("onPremisesExtensionAttributes")
            )
            self.users[user["id"]] = user
            self._index(user, add=True)
            self._log(user["id"])
            return self._shown(user)

    def update(self, key: str, body: Mapping[str, Any]) -> None:
        _check_writable(body)
        with self.lock:
            user = self.find(key)
            self._check_unique(body, user["id"])
            self._index(user, add=False)
            for name, value in body.items():
                if name == "onPremisesExtensionAttributes":
                    user[name] = _extensions(user.get(name) or {}, value)
                elif value is None:
                    user.pop(name, None)
                else:
                    user[name] = copy.deepcopy(value)
            self._index(user, add=True)
            self._log(user["id"])

    def delete(self, key: str) -> None:
        with self.lock:
            user_id = self.find(key)["id"]
            self._index(self.users[user_id], add=False)
            del self.users[user_id]
            self.managers.pop(user_id, None)
            for report in [r for r, m in self.managers.items() if m == user_id]:
                del self.managers[report]
                self._log(report)
            for forget in self.on_delete:
                forget(user_id)
            self._log(user_id)

    def set_manager(self, key: str, manager_key: str) -> None:
        with self.lock:
            user_id, manager_id = self.find(key)["id"], self.find(manager_key)["id"]
            if user_id == manager_id:
                raise GraphError(400, "Request_BadRequest", "A user cannot be their own manager.")
            self.managers[user_id] = manager_id
            self._log(user_id)

    def clear_manager(self, key: str) -> None:
        with self.lock:
            user_id = self.find(key)["id"]
            if self.managers.pop(user_id, None) is None:
                raise not_found(f"{user_id}/manager")
            self._log(user_id)

    def manager_of(self, key: str) -> JsonObject:
        with self.lock:
            user_id = self.find(key)["id"]
            manager = self.managers.get(user_id)
            if manager is None:
                raise not_found("manager")
            return self._shown(self.users[manager])

    def expire_delta_links(self) -> None:
        """Every deltaLink handed out so far answers 410 syncStateNotFound (as Graph's do
        after about a week, or when it drops the sync state)."""
        with self.lock:
            self.delta_epoch += 1

    def reset(self) -> None:
        with self.lock:
            self.users.clear()
            self._names.clear()
            self.managers.clear()
            self.changes.clear()

    def _log(self, user_id: str) -> None:
        self._sequence += 1
        self.changes.append((self._sequence, user_id))

    def _check_unique(self, body: Mapping[str, Any], own_id: str | None) -> None:
        """UPN and mailNickname are unique in the tenant, case-insensitively, as Entra has it;
        a UPN may not be another user's address either (Entra: a proxyAddress). Looked up in
        `_names`, not by a scan: a tenant of 10,000 users would make each create O(n)."""
        upn = body.get("userPrincipalName")
        if isinstance(upn, str) and self._holders("mail", upn) - {own_id}:
            raise GraphError(
                400,
                "Request_BadRequest",
                "Another object with the same value for property proxyAddresses already exists.",
            )
        for name in UNIQUE:
            value = body.get(name)
            if isinstance(value, str) and self._holders(name, value) - {own_id}:
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    f"Another object with the same value for property {name} already exists.",
                )

    def _holders(self, name: str, value: str) -> set[str | None]:
        return set(self._names.get((name, value.casefold()), ()))

    def _index(self, user: JsonObject, *, add: bool) -> None:
        """Add the user's unique names (and mail) to `_names`, or take them out."""
        for name in NAMED:
            value = user.get(name)
            if not isinstance(value, str):
                continue
            holders = self._names.setdefault((name, value.casefold()), set())
            if add:
                holders.add(user["id"])
            else:
                holders.discard(user["id"])


def _check_writable(body: Mapping[str, Any]) -> None:
    for name in body:
        if name not in WRITABLE:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Property '{name}' does not exist as a declared property or extension property.",
            )


def _extensions(current: Mapping[str, Any], patch: object) -> JsonObject:
    """onPremisesExtensionAttributes: all fifteen, each null unless set."""
    values: JsonObject = {name: current.get(name) for name in EXTENSION_NAMES}
    if isinstance(patch, dict):
        for name, value in patch.items():
            if name not in values:
                raise GraphError(400, "Request_BadRequest", f"Invalid property '{name}'.")
            values[name] = value
    return values


def _invalid(name: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Invalid value specified for property '{name}' of resource 'User'.",
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
