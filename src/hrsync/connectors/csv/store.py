"""hrsync's copy of the last delivered file: every row (disabled ones too, which the delivered
file leaves out) with its person id and state, and the checksum of what was delivered. Written
to NAME.part and renamed, so a crash never leaves a half-written copy."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

STATE = "rows.json"


@dataclass(slots=True)
class Row:
    key: str
    is_enabled: bool
    attributes: dict[str, str]


def read_rows(state_dir: Path) -> dict[str, Row]:
    """The rows last delivered, by row key; none before the first delivery."""
    path = state_dir / STATE
    if not path.exists():
        return {}
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {r["key"]: Row(r["key"], r["is_enabled"], r["attributes"]) for r in stored["rows"]}


def write_rows(state_dir: Path, rows: dict[str, Row], delivered_sha256: str) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    body = {
        "sha256": delivered_sha256,
        "rows": [
            {"key": r.key, "is_enabled": r.is_enabled, "attributes": r.attributes}
            for r in rows.values()
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
