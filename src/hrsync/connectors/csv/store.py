"""hrsync's copy of the last delivered file: every row (disabled ones too, which the delivered
file leaves out) with its person id and state, the groups of a format that has a groups file,
and the checksum of what was delivered. Written to NAME.part and renamed, so a crash never
leaves a half-written copy."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from hrsync.domain.account import Attributes
from hrsync.domain.ids import GroupId

STATE = "rows.json"


@dataclass(slots=True)
class Row:
    key: str
    is_enabled: bool
    attributes: dict[str, str]


@dataclass(slots=True)
class StoredGroup:
    """One organisation unit's group: `ref` is its id in the file (ExternalId), kept when the
    unit's id changes (a group adopted when the source gave the unit an id)."""

    group_id: GroupId
    ref: str
    attributes: Attributes
    members: list[str] = field(default_factory=list)
    """Row keys and the refs of child groups."""


@dataclass(slots=True)
class State:
    rows: dict[str, Row] = field(default_factory=dict)
    groups: dict[str, StoredGroup] = field(default_factory=dict)
    """By ref."""


def read_state(state_dir: Path) -> State:
    """The rows and groups last delivered; none before the first delivery."""
    path = state_dir / STATE
    if not path.exists():
        return State()
    stored = json.loads(path.read_text(encoding="utf-8"))
    rows = {r["key"]: Row(r["key"], r["is_enabled"], r["attributes"]) for r in stored["rows"]}
    groups = {
        g["ref"]: StoredGroup(GroupId(g["group_id"]), g["ref"], g["attributes"], g["members"])
        for g in stored.get("groups", ())
    }
    return State(rows, groups)


def write_state(state_dir: Path, state: State, delivered_sha256: str) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    body = {
        "sha256": delivered_sha256,
        "rows": [
            {"key": r.key, "is_enabled": r.is_enabled, "attributes": r.attributes}
            for r in state.rows.values()
        ],
        "groups": [
            {"group_id": g.group_id, "ref": g.ref, "attributes": g.attributes, "members": g.members}
            for g in state.groups.values()
        ],
    }
    write_atomically(state_dir / STATE, json.dumps(body, ensure_ascii=False).encode())


def write_atomically(path: Path, content: bytes) -> str:
    """`content` under `path`, by way of PATH.part; its SHA-256 in hex."""
    part = path.with_name(path.name + ".part")
    with part.open("wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    part.replace(path)
    return hashlib.sha256(content).hexdigest()
