"""A CSV file as a target: changes are applied to hrsync's copy of the rows, and `deliver`
(called when the run closes the target) writes the file of enabled rows and that copy. What
`read_accounts` returns is the copy of the last delivery plus this run's changes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from hrsync.connectors.csv.config import CsvConfig
from hrsync.connectors.csv.delivery import check_drop, open_drop
from hrsync.connectors.csv.formats import FORMATS, FileFormat
from hrsync.connectors.csv.policy import CsvPolicy
from hrsync.connectors.csv.profile import OWNER
from hrsync.connectors.csv.store import Row, read_rows, write_rows
from hrsync.connectors.csv.writer import render
from hrsync.connectors.files.drop import Drop
from hrsync.domain.account import Account
from hrsync.domain.changes import (
    Change,
    CreateAccount,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    UpdateAttributes,
)
from hrsync.domain.errors import AlreadyExistsError, NotFoundError, RejectedError
from hrsync.domain.ids import AccountId
from hrsync.domain.profile import TargetProfile
from hrsync.ports import Applied


class CsvTarget:
    key = "csv"

    def __init__(
        self, config: CsvConfig, policy: CsvPolicy | None = None, drop: Drop | None = None
    ) -> None:
        self.config = config
        self.drop = drop or open_drop(config)
        self.file_format: FileFormat = FORMATS[config.format]
        self.policy = policy or CsvPolicy(self.file_format)
        self._state = Path(config.state_dir)
        self._rows = read_rows(self._state)
        self._is_changed = False

    @property
    def profile(self) -> TargetProfile:
        return self.policy.profile

    def check(self) -> None:
        self.check_delivery()

    def check_delivery(self) -> str:
        """ "Test connection": where the file goes, in words (over SFTP with the server's
        fingerprint); TargetError when it cannot go there."""
        return check_drop(self.drop)

    def prepare(self) -> None:
        self._state.mkdir(parents=True, exist_ok=True)

    def read_reserved_names(self) -> Iterator[tuple[str, str]]:
        return iter(())

    def read_accounts(self) -> Iterable[Account]:
        for row in self._rows.values():
            yield Account(AccountId(row.key), row.key, row.is_enabled, dict(row.attributes))

    def apply(self, change: Change) -> Applied:
        match change:
            case CreateAccount():
                return self._create(change)
            case UpdateAttributes():
                row = self._row(change.ref)
                for name, value in change.after.items():
                    if value is None:
                        row.attributes.pop(name, None)
                    else:
                        row.attributes[name] = value
            case EnableAccount() | DisableAccount():
                self._row(change.ref).is_enabled = isinstance(change, EnableAccount)
            case DeleteAccount():
                self._row(change.ref)
                del self._rows[change.ref]
            case _:
                raise RejectedError(f"a CSV file cannot {type(change).__name__}")
        self._is_changed = True
        return Applied(change.ref)

    def _create(self, change: CreateAccount) -> Applied:
        key = change.attributes.get(self.file_format.key) or ""
        if not key:
            raise RejectedError(f"{self.file_format.key} is empty")
        if key in self._rows:
            raise AlreadyExistsError(f"{self.file_format.key} {key} is in the file")
        attributes = {k: v for k, v in change.attributes.items() if v is not None}
        self._rows[key] = Row(key, change.is_enabled, attributes)
        self._is_changed = True
        return Applied(key, AccountId(key))

    def _row(self, ref: str) -> Row:
        row = self._rows.get(ref)
        if row is None:
            raise NotFoundError(f"no row {ref} in the file")
        return row

    def deliver(self) -> str:
        """Put the file of enabled rows (and its receipt) through the drop, then write hrsync's
        copy with its checksum. Only then: a delivery that fails leaves the copy as it was, so
        the next run plans the same changes again and delivers them. Returns the file's name."""
        rows = (r.attributes for r in self._rows.values() if r.is_enabled)
        content = render(self.file_format, rows)
        name = self.file_format.file_name
        digest = hashlib.sha256(content).hexdigest()
        self.drop.put(name, content)
        if self.config.receipt:
            self.drop.put(f"{name}.sha256", f"{digest}  {name}\n".encode())
        write_rows(self._state, self._rows, digest)
        self._is_changed = False
        return name

    def close(self) -> None:
        """The run is over: deliver the file when anything changed."""
        if self._is_changed:
            self.deliver()


__all__ = ["OWNER", "CsvTarget"]
