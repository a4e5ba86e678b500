"""A drop: a directory files are delivered to (a CSV target) or picked up from (a CSV source).

A file is put under NAME.part and then renamed, so a reader never sees a half-written file under
its final name; a picked-up file is moved to `processed/` so it is taken once.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Protocol

PART = ".part"
PROCESSED = "processed"
CHUNK = 1 << 20


class Drop(Protocol):
    """One directory, local or remote. Errors are TargetError (or SourceError for a source's
    pickup) subclasses with a readable message; TransientError where a retry may help."""

    def describe(self) -> str:
        """Where the files go, in words ("folder /srv/drop", "sftp://acme@host:22/upload")."""
        ...

    def put(self, name: str, content: bytes) -> None:
        """`content` under `name`, written to NAME.part and renamed over any earlier file."""

    def put_file(self, name: str, path: Path) -> None:
        """The local file `path` under `name`, streamed: by way of NAME.part, like `put`."""

    def names(self) -> list[str]:
        """The files waiting in the directory, sorted; never a .part file or a directory."""
        ...

    def read(self, name: str) -> bytes: ...

    def move_to_processed(self, name: str) -> None:
        """Move `name` into the `processed/` subdirectory (made when missing)."""


class FolderDrop:
    """A local folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def describe(self) -> str:
        return f"folder {self.folder}"

    def put(self, name: str, content: bytes) -> None:
        path = self.folder / name
        part = path.with_name(path.name + PART)
        with part.open("wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        part.replace(path)

    def put_file(self, name: str, path: Path) -> None:
        final = self.folder / name
        part = final.with_name(final.name + PART)
        with path.open("rb") as source, part.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        part.replace(final)

    def names(self) -> list[str]:
        return sorted(
            p.name for p in self.folder.iterdir() if p.is_file() and not p.name.endswith(PART)
        )

    def read(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()

    def move_to_processed(self, name: str) -> None:
        processed = self.folder / PROCESSED
        processed.mkdir(exist_ok=True)
        (self.folder / name).replace(processed / name)
