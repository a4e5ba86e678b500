"""Protocols the engine needs from outside. Connectors and the Django shell implement them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from hrsync.domain.account import Account
from hrsync.domain.changes import Change, CreateAccount
from hrsync.domain.errors import TargetError
from hrsync.domain.ids import AccountId
from hrsync.domain.person import InvalidRecord, Person
from hrsync.domain.profile import TargetProfile


class PersonSource(Protocol):
    """An HR system. `read_people` yields valid persons and set-aside records, page by page."""

    key: str

    def check(self) -> None:
        """Raise SourceError with a readable message when the source cannot be reached or read."""

    def read_people(self, modified_since: datetime | None) -> Iterator[Person | InvalidRecord]:
        """Every person modified since the given time (all when None)."""
        ...


@dataclass(frozen=True, slots=True)
class Applied:
    """What a target reports back after carrying out a change: the ref the account or group
    has now (for a create, the real one in place of the plan's provisional ref)."""

    ref: str
    account_id: AccountId | None = None


class Target(Protocol):
    """A system that holds accounts. Only `apply` mutates it."""

    key: str

    @property
    def profile(self) -> TargetProfile:
        """What the target declares (hrsync.domain.profile)."""
        ...

    def check(self) -> None:
        """Raise TargetError with a readable message when the target cannot be used."""

    def read_accounts(self) -> Iterable[Account]:
        """Every account in the target's scope, with the attributes hrsync manages."""
        ...

    def apply(self, change: Change) -> Applied:
        """Carry out one change; raise a TargetError subclass on failure."""
        ...


@runtime_checkable
class BatchTarget(Protocol):
    """A target that can create many accounts in one request (SCIM: /Bulk), for targets whose
    profile has the batch capability. The engine sends runs of consecutive creates."""

    def batch_size(self) -> int:
        """How many creates one batch may hold now; 0 or 1: the target batches nothing (a SCIM
        app without bulk support), and every change goes through `apply`."""
        ...

    def apply_batch(self, changes: Sequence[CreateAccount]) -> list[Applied | TargetError]:
        """Carry out every create; per change, in order, what it became or why it failed.
        Raise a TransientError when the batch as a whole did not reach the target."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...
