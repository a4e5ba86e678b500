"""Incremental reads through `users/delta`: the users as last read and the deltaLink that
continues from there, kept per connection, so a later run asks Graph only for what changed.

A first read (no state, a changed `$select`, or Graph answering 410 / `syncStateNotFound` when
the link has expired) walks the whole delta round, which lists every user and ends in a new
deltaLink. Graph's delta answers carry only the properties that changed and mark deleted users
`@removed`; the manager comes as `manager@delta` (hrsync.simulators.graph does the same).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from hrsync.connectors.microsoft365.client import GraphClient, Json
from hrsync.connectors.microsoft365.errors import GraphError

log = structlog.get_logger(__name__)

EXPIRED_CODES = frozenset({"syncStateNotFound", "resyncRequired", "syncStateInvalid"})
"""Graph's codes for a deltaLink it no longer knows: read everything again."""


@dataclass(frozen=True)
class DeltaState:
    """The users as last read (by id, the selected properties and `manager` as an id) and the
    deltaLink to follow next; `select` is what they were read with."""

    select: str
    delta_link: str
    users: dict[str, Json]


class DeltaStore(Protocol):
    """Where a connection's delta state lives between runs."""

    def load(self) -> DeltaState | None: ...

    def save(self, state: DeltaState) -> None: ...


class FileDeltaStore:
    """The state as one JSON file, replaced whole (written beside it, then renamed) so a run
    that dies mid-write leaves the previous state, never half of one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> DeltaState | None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return DeltaState(str(raw["select"]), str(raw["delta_link"]), dict(raw["users"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none yet, or unreadable: a full read makes a new one

    def save(self, state: DeltaState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        part = self.path.with_suffix(".part")
        body = {"select": state.select, "delta_link": state.delta_link, "users": state.users}
        part.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
        part.replace(self.path)


def read_users(client: GraphClient, store: DeltaStore, select: str) -> list[Json]:
    """Every user, as the last state merged with the changes since; the new state saved.
    No `$top`: Graph pages a delta round itself (`Prefer: odata.maxpagesize` at most)."""
    state = store.load()
    if state is not None and state.select == select:
        try:
            users, link = _follow(client, state.delta_link, dict(state.users))
        except GraphError as error:
            if not _is_expired(error):
                raise
            log.info("graph.delta_expired", error=str(error))
            state = None
    else:
        state = None
    if state is None:
        params = {"$select": select, "$expand": "manager($select=id)"}
        users, link = _follow(client, "/users/delta", {}, params)
    store.save(DeltaState(select, link, users))
    return list(users.values())


def _follow(
    client: GraphClient, start: str, users: dict[str, Json], params: dict[str, str] | None = None
) -> tuple[dict[str, Json], str]:
    """Walk a delta round from `start` (pages by nextLink), merging each entry into `users`;
    the users and the round's deltaLink."""
    page = client.request("GET", start, params=params, expected=(200,))
    changes = 0
    while True:
        for entry in page.get("value") or ():
            if isinstance(entry, dict) and entry.get("id"):
                merge(users, entry)
                changes += 1
        if link := page.get("@odata.nextLink"):
            page = client.request("GET", str(link), expected=(200,))
            continue
        log.debug("graph.delta_read", changes=changes, users=len(users))
        return users, str(page.get("@odata.deltaLink") or "")


def merge(users: dict[str, Json], entry: Json) -> None:
    """One delta entry into the users: removed, or its properties over the known ones."""
    user_id = str(entry["id"])
    if "@removed" in entry:
        users.pop(user_id, None)
        return
    user = users.setdefault(user_id, {"id": user_id})
    for name, value in entry.items():
        if name == "manager@delta":
            user["manager"] = _manager_of(value)
        elif not name.startswith("@"):
            user[name] = value


def _manager_of(value: Any) -> Json | None:
    """`manager@delta`: the manager's id, or none when it was removed."""
    found = [m for m in value or () if isinstance(m, dict) and "@removed" not in m]
    return {"id": str(found[0]["id"])} if found and found[0].get("id") else None


def _is_expired(error: GraphError) -> bool:
    return error.status == 410 or (error.code or "") in EXPIRED_CODES


def iter_mails(users: list[Json]) -> Iterator[str]:
    """The addresses of users already read, for the names in use."""
    for user in users:
        if mail := user.get("mail"):
            yield str(mail)
