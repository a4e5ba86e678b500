"""hrsync's copy of the last delivered file: every row (disabled ones too, which the delivered
file leaves out) with its person id and state, the groups of a format that has a groups file,
and the checksum of what was delivered. Written to NAME.part and renamed, so a crash never
leaves a half-written copy."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from hrsync.domain.account import Attributes
from hrsync.domain.ids import GroupId

STATE = "rows.json"


@dataclass(slots=True)
class Row:
    key: str
    is_enabled: bool
    attributes: Attributes
    """Shared with the change that made it; replaced, never changed in place."""


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
    """The copy, a row a line, streamed: no second copy of every row is built in memory."""

    def write(out: TextIO) -> None:
        out.write(f'{{"sha256": {json.dumps(delivered_sha256)},\n"rows": [\n')
        _write_lines(
            out,
            (
                {"key": r.key, "is_enabled": r.is_enabled, "attributes": r.attributes}
                for r in state.rows.values()
            ),
        )
        out.write('],\n"groups": [\n')
        _write_lines(
            out,
            (
                {
                    "group_id": g.group_id,
                    "ref": g.ref,
                    "attributes": g.attributes,
                    "members": g.members,
                }
                for g in state.groups.values()
            ),
        )
        out.write("]}\n")

    state_dir.mkdir(parents=True, exist_ok=True)
    write_streamed(state_dir / STATE, write)


def _write_lines(out: TextIO, items: Iterable[object]) -> None:
    for number, item in enumerate(items):
        out.write((",\n" if number else "") + json.dumps(item, ensure_ascii=False))
    out.write("\n")


def write_streamed(path: Path, write: Callable[[TextIO], None]) -> str:
    """What `write` writes (UTF-8, newline="") under `path`, by way of PATH.part, flushed to
    disk before the rename; its SHA-256 in hex."""
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8", newline="") as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())
    part.replace(path)
    return sha256_of(path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as read:
        while chunk := read.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def folded(text: str) -> str:
    """`text` case-folded, as the same string object when folding changes nothing (most keys
    are lower-case e-mails): an index of 100,000 keys then holds no second copy of them."""
    fold = text.casefold()
    return text if fold == text else fold
