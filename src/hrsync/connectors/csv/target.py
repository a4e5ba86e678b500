"""A CSV file as a target: changes are applied to hrsync's copy of the rows (and groups), and
`deliver` (called when the run closes the target) writes the file of enabled rows, the groups
file where the format has one, and that copy. What `read_accounts` returns is the copy of the
last delivery plus this run's changes.

A row is addressed by an id hrsync gives it when it is made, never shown in the file: the key
column (CSV_USERNAME, ExternalId) is an attribute like the others, unique across the rows, so a
changed e-mail changes Flexwhere's username without losing the row, and a report's
ManagerExternalId follows their manager's key.

A full delivery writes every enabled row; a delta delivery only the rows created or changed
since the last delivery, and a removals file with the keys that left the file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TextIO

from hrsync.connectors.csv.config import CsvConfig
from hrsync.connectors.csv.delivery import check_drop, open_drop
from hrsync.connectors.csv.formats import GROUP, MANAGER, FileFormat
from hrsync.connectors.csv.policy import CsvPolicy
from hrsync.connectors.csv.profile import OWNER
from hrsync.connectors.csv.store import (
    Row,
    StoredGroup,
    folded,
    read_state,
    write_state,
    write_streamed,
)
from hrsync.connectors.csv.writer import write_table, write_users
from hrsync.connectors.files.drop import Drop
from hrsync.domain.account import Account, Attributes
from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateAccount,
    CreateGroup,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    RemoveMembers,
    RetireGroup,
    SetManager,
    UpdateAttributes,
    UpdateGroup,
)
from hrsync.domain.errors import AlreadyExistsError, NotFoundError, RejectedError
from hrsync.domain.groups import EMPTY_SINCE, HRSYNC_ID, Group
from hrsync.domain.ids import AccountId, GroupId
from hrsync.domain.profile import TargetProfile
from hrsync.ports import Applied

DELIVERED = "delivered"
"""In the connection's data directory: the files as last delivered."""


class CsvTarget:
    key = "csv"

    def __init__(
        self,
        config: CsvConfig,
        policy: CsvPolicy | None = None,
        state_dir: str = "",
        drop: Drop | None = None,
    ) -> None:
        self.config = config
        self.drop = drop or open_drop(config)
        self.policy = policy or CsvPolicy(config.file_format())
        self.file_format: FileFormat = self.policy.file_format
        self._state_dir = Path(state_dir or config.state_dir)
        self._state = read_state(self._state_dir)
        self._rows = self._state.rows
        self._groups = self._state.groups
        self._by_key = {folded(self._key_of(row)): row.key for row in self._rows.values()}
        """The key column's value (case-folded) → the row id: keys are unique in the file."""
        self._delivered = self._in_file() if config.contents == "delta" else {}
        """Row id → key of the rows in the file last delivered, for a delta's removals file."""
        self._touched: set[str] = set()
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
        self._state_dir.mkdir(parents=True, exist_ok=True)

    def read_reserved_names(self) -> Iterator[tuple[str, str]]:
        return iter(())

    def read_accounts(self) -> Iterable[Account]:
        for row in self._rows.values():
            yield Account(AccountId(row.key), row.key, row.is_enabled, dict(row.attributes))

    def read_groups(self) -> tuple[list[Group], frozenset[str]]:
        """The groups of the last delivery; no names are reserved (a file has no others)."""
        groups = [
            Group(g.group_id, g.ref, dict(g.attributes), tuple(g.members))
            for g in self._groups.values()
        ]
        return groups, frozenset()

    # --- changes -------------------------------------------------------------------------

    def apply(self, change: Change) -> Applied:
        match change:
            case CreateAccount():
                return self._create(change)
            case UpdateAttributes():
                self._update(self._row(change.ref), change)
            case SetManager():
                row = self._row(change.ref)
                row.attributes = _with(
                    row.attributes, {self.profile.manager_attribute: change.after}
                )
            case EnableAccount() | DisableAccount():
                self._row(change.ref).is_enabled = isinstance(change, EnableAccount)
            case DeleteAccount():
                self._by_key.pop(self._key_of(self._row(change.ref)).casefold(), None)
                del self._rows[change.ref]
                for group in self._groups.values():
                    if change.ref in group.members:
                        group.members.remove(change.ref)
            case CreateGroup() | UpdateGroup() | AddMembers() | RemoveMembers() | RetireGroup():
                return self._apply_to_group(change)
            case _:
                raise RejectedError(f"a CSV file cannot {type(change).__name__}")
        self._touch(change.ref)
        return Applied(change.ref)

    def _create(self, change: CreateAccount) -> Applied:
        key = change.attributes.get(self.file_format.key) or ""
        if not key:
            raise RejectedError(f"{self.file_format.key} is empty")
        if key.casefold() in self._by_key:
            raise AlreadyExistsError(f"{self.file_format.key} {key} is in the file")
        # The person's id names their row where it is free (it is: hrsync made the rows for
        # persons); a row of no known person gets a random one.
        row_id = change.person_id if change.person_id not in self._rows else uuid.uuid4().hex
        # The row shares the plan's dict (100,000 rows are not copied); `_with` never changes
        # a dict in place.
        attributes = change.attributes
        if None in attributes.values():
            attributes = {k: v for k, v in attributes.items() if v is not None}
        self._rows[row_id] = Row(row_id, change.is_enabled, attributes)
        self._by_key[folded(key)] = row_id
        self._touch(row_id)
        return Applied(row_id, AccountId(row_id))

    def _update(self, row: Row, change: UpdateAttributes) -> None:
        """The row's new values; a new key must be free (a key names one row of the file)."""
        name = self.file_format.key
        old, new = self._key_of(row), change.after.get(name)
        if name in change.after and (new or "").casefold() != old.casefold():
            if not new:
                raise RejectedError(f"{name} cannot be emptied")
            if new.casefold() in self._by_key:
                raise AlreadyExistsError(f"{name} {new} is in another row of the file")
            del self._by_key[old.casefold()]
            self._by_key[folded(new)] = row.key
        row.attributes = _with(row.attributes, change.after)

    def _key_of(self, row: Row) -> str:
        return row.attributes.get(self.file_format.key) or ""

    def _in_file(self) -> dict[str, str]:
        return {rid: self._key_of(row) for rid, row in self._rows.items() if row.is_enabled}

    def _apply_to_group(
        self, change: CreateGroup | UpdateGroup | AddMembers | RemoveMembers | RetireGroup
    ) -> Applied:
        match change:
            case CreateGroup():
                if change.ref in self._groups:
                    raise AlreadyExistsError(f"group {change.ref} is in the file")
                attributes = {"displayName": change.attributes.get("displayName")}
                self._groups[change.ref] = StoredGroup(change.group_id, change.ref, attributes)
            case UpdateGroup():
                group = self._group(change.ref)
                after = dict(change.after)
                if new_id := after.pop(HRSYNC_ID, None):
                    group.group_id = GroupId(new_id)
                kept = {k: after[k] for k in ("displayName", EMPTY_SINCE) if k in after}
                group.attributes = _with(group.attributes, kept)
            case AddMembers():
                group = self._group(change.ref)
                group.members += [m for m in change.members if m not in group.members]
            case RemoveMembers():
                group = self._group(change.ref)
                group.members = [m for m in group.members if m not in change.members]
            case RetireGroup():
                self._group(change.ref)
                del self._groups[change.ref]
        self._is_changed = True
        return Applied(change.ref)

    def _touch(self, key: str) -> None:
        self._touched.add(key)
        self._is_changed = True

    def _row(self, ref: str) -> Row:
        row = self._rows.get(ref)
        if row is None:
            raise NotFoundError(f"no row {ref} in the file")
        return row

    def _group(self, ref: str) -> StoredGroup:
        group = self._groups.get(ref)
        if group is None:
            raise NotFoundError(f"no group {ref} in the groups file")
        return group

    # --- delivery ------------------------------------------------------------------------

    def _writers(self) -> list[tuple[str, Callable[[TextIO], None]]]:
        """What a delivery writes, by file name: the users file (every enabled row, or in a
        delta delivery only those created or changed since the last), then the removals file
        (delta) and the groups file (formats that have one). Each is streamed row by row."""
        file_format = self.file_format
        is_delta = self.config.contents == "delta"
        rows = [
            r
            for r in self._rows.values()
            if r.is_enabled and (not is_delta or r.key in self._touched)
        ]
        writers: list[tuple[str, Callable[[TextIO], None]]] = [
            (
                file_format.file_name,
                lambda out: write_users(out, file_format, self._user_lines(rows)),
            )
        ]
        if is_delta:
            now = self._in_file()
            removed = sorted(k for rid, k in self._delivered.items() if now.get(rid) != k)
            writers.append(
                (
                    file_format.removals_file_name,
                    lambda out: write_table(
                        out, file_format, (file_format.key,), ([k] for k in removed)
                    ),
                )
            )
        if (groups := file_format.groups) is not None:
            parents = self._parents()
            lines = [
                (g.ref, str(g.attributes.get("displayName") or ""), parents.get(g.ref, ""))
                for g in self._groups.values()
            ]
            writers.append(
                (groups.file_name, lambda out: write_table(out, file_format, groups.columns, lines))
            )
        return writers

    def _user_lines(self, rows: list[Row]) -> Iterator[Mapping[str, str | None]]:
        """Each row as written: its attributes and, where the format has them, the manager's
        key (the row keeps the manager's row id) and the group of the person's lowest unit."""
        manager = self.file_format.derived_column(MANAGER)
        group = self.file_format.derived_column(GROUP)
        if manager is None and group is None:
            yield from (row.attributes for row in rows)
            return
        group_of = self._parents() if group else {}
        for row in rows:
            line = dict(row.attributes)
            if manager is not None:
                boss = self._rows.get(line.get(manager) or "")
                line[manager] = self._key_of(boss) if boss is not None else ""
            if group is not None:
                line[group] = group_of.get(row.key, "")
            yield line

    def _parents(self) -> dict[str, str]:
        """Member ref (a row key or a group's ref) → the ref of the group holding it."""
        return {member: group.ref for group in self._groups.values() for member in group.members}

    def deliver(self) -> str:
        """Write each file into hrsync's data directory (`delivered/`: the files last
        delivered), put them through the drop (a folder, SFTP), then save hrsync's copy of the
        rows with the users file's checksum. Only then: a delivery that fails leaves the copy as
        it was, so the next run plans the same changes again and delivers them. Returns the
        users file's name."""
        staged = self._state_dir / DELIVERED
        staged.mkdir(parents=True, exist_ok=True)
        written = [(name, write_streamed(staged / name, write)) for name, write in self._writers()]
        for name, digest in written:
            self.drop.put_file(name, staged / name)
            if self.config.receipt:
                self.drop.put(f"{name}.sha256", f"{digest}  {name}\n".encode())
        write_state(self._state_dir, self._state, written[0][1])
        if self.config.contents == "delta":
            self._delivered = self._in_file()
        self._touched.clear()
        self._is_changed = False
        return self.file_format.file_name

    def close(self) -> None:
        """The run is over: deliver the file when anything changed."""
        if self._is_changed:
            self.deliver()


def _with(attributes: Mapping[str, str | None], changes: Attributes) -> Attributes:
    """A new dict of `attributes` with `changes` made (None: removed); neither is changed."""
    merged = {**attributes, **changes}
    return {name: value for name, value in merged.items() if value is not None}


__all__ = ["OWNER", "CsvTarget"]
