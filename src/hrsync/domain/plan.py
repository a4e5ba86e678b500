"""A plan: the ordered changes that make a target match the desired state, and its outcomes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hrsync.domain.changes import CHANGE_KINDS, Change, kind_of
from hrsync.domain.ids import AccountId
from hrsync.domain.lineage import Derivations, lineage_from_json

CHANGE_TYPES = {kind: change_type for change_type, kind in CHANGE_KINDS.items()}


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...]
    derivations: Derivations = field(default_factory=dict, compare=False)
    """How each attribute is computed (hrsync.domain.lineage); the changes carry the values."""

    def counts(self) -> dict[str, int]:
        """Changes per kind; every kind present, zero when absent."""
        tally = Counter(kind_of(change) for change in self.changes)
        return {kind: tally.get(kind, 0) for kind in CHANGE_KINDS.values()}

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def fingerprint(self) -> str:
        """A digest binding an approval to exactly these changes."""
        digest = hashlib.sha256()
        for record in serialise_changes(self.changes):
            digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
        return digest.hexdigest()


def serialise_changes(changes: tuple[Change, ...]) -> list[dict[str, object]]:
    """Plain JSON-ready dicts, one per change, with its kind. An empty lineage is left out, so
    plans recorded before lineage existed keep their fingerprints."""
    return [_record(change) for change in changes]


def _record(change: Change) -> dict[str, object]:
    record: dict[str, object] = {"kind": kind_of(change), **dataclasses.asdict(change)}
    if record.get("lineage") == {"values": {}, "notes": {}}:
        del record["lineage"]
    return record


def deserialise_change(record: Mapping[str, Any]) -> Change:
    """One change back from its `serialise_changes` record; other keys are ignored. A held plan
    comes back this way, and its fingerprint proves it came back unchanged."""
    change_type = CHANGE_TYPES[str(record["kind"])]
    names = [f.name for f in dataclasses.fields(change_type)]
    values: dict[str, Any] = {name: record.get(name) for name in names}
    if "lineage" in values:
        values["lineage"] = lineage_from_json(values["lineage"])
    return change_type(**values)


class Status(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    DEFERRED = "deferred"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Outcome:
    change: Change
    status: Status
    error: str | None = None
    is_transient: bool = False
    account_id: AccountId | None = None
    ref: str | None = None
