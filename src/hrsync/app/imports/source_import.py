"""Import a source into the person store and record each personnel change (the change log).

The source-shrink guard (docs/decisions/0008-source-shrink-guard.md): a full import that lists
markedly fewer people than the last recorded full import is held, and nothing of it is recorded
but the hold itself (audited, and announced by the `import.held` event), until an operator
accepts the smaller list (`hrsync import SOURCE --accept-shrink`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from django.db import connection, transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hrsync.app import models
from hrsync.app.connection_settings import wiring
from hrsync.app.jobs.queue import queue_on_change
from hrsync.app.logs import scoped_log_context
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.security import audit
from hrsync.app.sources.looks import describe_source
from hrsync.app.tickets.desk import EventSink, batched_entries, open_tickets
from hrsync.app.triggers import DefaultActions, Dispatcher
from hrsync.domain.errors import SourceError
from hrsync.domain.person import InvalidRecord, Person, hash_fields, person_from_fields
from hrsync.engine.personnel import classify_change
from hrsync.engine.safety import ShrinkGuard, judge_import

log = structlog.get_logger(__name__)
BATCH = 500
Progress = Callable[[int], None]
"""Called with the number of records handled so far."""


DEFAULT_GUARD = ShrinkGuard()


class ShrinkGuardSettings(BaseModel):
    """A source's shrink guard, as `[sources.KEY.shrink_guard]` and the stored settings say."""

    model_config = ConfigDict(extra="forbid")

    percent: float = Field(DEFAULT_GUARD.percent, ge=0, le=100)
    count: int = Field(DEFAULT_GUARD.count, ge=0)
    enabled: bool = DEFAULT_GUARD.is_on

    def guard(self) -> ShrinkGuard:
        return ShrinkGuard(self.percent, self.count, self.enabled)


def shrink_guard_of(settings: dict[str, Any]) -> ShrinkGuard:
    """The source's guard; stored values that do not validate count as the default (on)."""
    try:
        return ShrinkGuardSettings.model_validate(settings.get("shrink_guard") or {}).guard()
    except ValidationError:
        return DEFAULT_GUARD


@dataclass
class ImportSummary:
    import_id: int
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    invalid: int = 0
    held: str = ""
    """Why the shrink guard held the import (nothing of it was recorded); empty otherwise."""

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k not in ("import_id", "held")}


@scoped_log_context
def import_source(
    key: str,
    *,
    full: bool = False,
    progress: Progress | None = None,
    with_tickets: bool = True,
    accepted_by: str = "",
) -> ImportSummary:
    """Fetch what changed in the window, store it, log the changes.

    Everything is fetched when `full`, and on a source's first import: the window is for keeping
    up, and the first import must see people whose HR record has not been touched in a while.
    Each change opens a ticket (or comments the open one) and fires triggers, unless
    `with_tickets` is off (benchmarks compare both).

    A full import that lists markedly fewer people than the last full one is held by the
    shrink guard: the Import is recorded as held with the reason, `ImportSummary.held` says it,
    the hold is audited and fires `import.held`, and nothing else is written. `accepted_by` (an
    actor) accepts a shrink in advance: the import is recorded, and the acceptance audited.
    """
    row = models.Source.objects.get(key=key)
    full = full or not row.imports.filter(status="succeeded").exists()
    events = Dispatcher.load(DefaultActions(run_connection)) if with_tickets else None
    previous = _listed_last_time(row) if full else None
    guard = ShrinkGuard(is_on=False) if accepted_by else shrink_guard_of(row.settings)
    with wiring.build_source(row) as source:
        window_start = None if full else source.default_window_start(timezone.now())
        listing = Listing(source.read_people(window_start), full, window_start, previous)
        return record_listing(row, listing, guard, events, progress, accepted_by=accepted_by)


@dataclass
class Listing:
    """What one import lists, and what the shrink guard compares it with."""

    items: Iterable[Person | InvalidRecord]
    is_full: bool
    window_start: datetime | None
    previous: int | None
    """How many people the import is compared with (None: nothing to compare)."""
    leavers: Iterable[Person] = ()
    """Persons the source no longer lists, already given their end date (a replace file):
    recorded after the listing, not counted as listed."""


@scoped_log_context
def record_listing(
    row: models.Source,
    listing: Listing,
    guard: ShrinkGuard,
    events: Dispatcher | None,
    progress: Progress | None = None,
    *,
    accepted_by: str = "",
) -> ImportSummary:
    """Record one listing as an Import: persons, change log, tickets and triggers, unless the
    shrink guard holds it (then only the hold is recorded). Shared by source imports and file
    imports (hrsync.app.imports.file_import)."""
    record = models.Import.objects.create(
        source=row, is_full=listing.is_full, modified_since=listing.window_start
    )
    structlog.contextvars.bind_contextvars(import_id=record.pk, source=row.key)
    store = _PersonStore(row, record, _today(row), events, with_tickets=events is not None)
    # Until the import has listed enough people to pass the guard, nothing is written.
    previous = listing.previous
    store.fewest = guard.fewest_accepted(previous) if previous is not None else 0
    try:
        _read_into(listing.items, store, progress)
    except SourceError as error:
        store.flush()
        _finish(record, store.summary, "failed", str(error))
        raise
    store.summary.held = judge_import(store.summary.fetched, previous, guard) or ""
    if store.summary.held:
        _hold(row, record, store.summary, previous, events)
        return store.summary
    for leaver in listing.leavers:
        store.take_leaver(leaver)
    store.flush()
    _finish(record, store.summary, "succeeded")
    if accepted_by:
        _audit_acceptance(row, record, previous, shrink_guard_of(row.settings), accepted_by)
    if store.summary.new + store.summary.changed:
        queue_on_change(row.key, timezone.now())  # "on-change" connections run at once
    if events is not None:
        if store.summary.invalid:
            events.fire("import.invalid", _invalid_subject(row, store.summary))
        events.flush()  # provisioning asked for by triggers: one focused run per connection
    return store.summary


def _hold(
    row: models.Source,
    record: models.Import,
    summary: ImportSummary,
    previous: int | None,
    events: Dispatcher | None,
) -> None:
    """Record the import as held (`summary.held` says why) and say so where admins look: the
    audit log, the log, and the `import.held` event, whose triggers may notify someone. Nothing
    else of the import is recorded."""
    reason = summary.held
    _finish(record, summary, "held", f"held by the shrink guard: {reason}")
    log.warning("import held", source=row.key, import_id=record.pk, reason=reason)
    after = {"import": record.pk, "reason": reason}
    audit.record("system", "source.import_held", "source", row.key, after=after)
    if events is not None:
        events.fire("import.held", _held_subject(row, summary, previous))
        events.flush()


def _held_subject(
    row: models.Source, summary: ImportSummary, previous: int | None
) -> dict[str, object]:
    return {
        "source": describe_source(row).trigger_name,
        "source_key": row.key,
        "count": summary.fetched,
        "previous_count": previous,
        "import_id": summary.import_id,
        "reason": summary.held,
    }


def _invalid_subject(row: models.Source, summary: ImportSummary) -> dict[str, object]:
    return {
        "source": describe_source(row).trigger_name,
        "source_key": row.key,
        "count": summary.invalid,
        "import_id": summary.import_id,
    }


def _read_into(
    items: Iterable[Person | InvalidRecord], store: _PersonStore, progress: Progress | None
) -> None:
    """Every item into the store; the caller flushes the last batch (or, when held, not)."""
    for count, item in enumerate(items, start=1):
        store.take(item)
        if progress is not None:
            progress(count)


def _listed_last_time(row: models.Source) -> int | None:
    """How many people the last recorded full import listed: what a full import is compared
    with. Held and failed imports are not compared with; incremental ones list only who changed
    in their window, so their size says nothing about the source (decision 0008)."""
    last = row.imports.filter(status="succeeded", is_full=True).order_by("-pk").first()
    return None if last is None else int(last.counts.get("fetched", 0))


def _audit_acceptance(
    row: models.Source, record: models.Import, previous: int | None, guard: ShrinkGuard, actor: str
) -> None:
    """An accepted import that the guard would have held leaves a trace of who accepted it."""
    reason = judge_import(int(record.counts.get("fetched", 0)), previous, guard)
    if reason is None:
        return
    after = {"import": record.pk, "reason": reason}
    audit.record(actor, "source.shrink_accepted", "source", row.key, after=after)


def _finish(record: models.Import, summary: ImportSummary, status: str, error: str = "") -> None:
    record.status, record.error, record.counts = status, error, summary.counts()
    record.finished = timezone.now()
    record.save(update_fields=["status", "error", "counts", "finished"])


def _today(row: models.Source) -> date:
    zone = ZoneInfo(str(row.settings.get("time_zone", "Europe/Stockholm")))
    return datetime.now(zone).date()


class _PersonStore:
    """Compares incoming persons with the stored ones by content hash and writes in batches."""

    def __init__(
        self,
        source: models.Source,
        record: models.Import,
        today: date,
        events: EventSink | None,
        *,
        with_tickets: bool,
    ) -> None:
        self.source, self.record, self.today = source, record, today
        self.events, self.with_tickets = events, with_tickets
        self.summary = ImportSummary(import_id=record.pk)
        # Through the source's own manager every row shares this one Source, with no join and
        # no copy of its settings per person (select_related gave each row its own).
        self.known = {p.person_id: p for p in source.people.all()}
        self.seen: set[str] = set()
        self.fewest = 0
        """Nothing is written until this many records are listed (the shrink guard)."""
        self.new_rows: list[tuple[models.Person, Person]] = []
        self.changed_rows: list[tuple[models.Person, Person, Person]] = []
        self.invalid_rows: list[models.InvalidRecord] = []

    def take(self, item: Person | InvalidRecord) -> None:
        self.summary.fetched += 1
        if isinstance(item, InvalidRecord):
            self.summary.invalid += 1
            self.invalid_rows.append(
                models.InvalidRecord(
                    source_import=self.record,
                    source_ref=item.source_ref,
                    reason=item.reason,
                    excerpt=item.excerpt[:2000],
                )
            )
        elif item.person_id not in self.seen:
            self.seen.add(item.person_id)
            self._compare(item)
        self._flush_when_full()

    def take_leaver(self, person: Person) -> None:
        """A stored person the source no longer lists, with the end date it gave them."""
        self._compare(person)
        self._flush_when_full()

    def _flush_when_full(self) -> None:
        pending = len(self.new_rows) + len(self.changed_rows) + len(self.invalid_rows)
        if pending >= BATCH and self.summary.fetched >= self.fewest:
            self.flush()

    def _compare(self, person: Person) -> None:
        row = self.known.get(person.person_id)
        flat = person.fields()
        digest = hash_fields(flat)
        if row is None:
            self.summary.new += 1
            self.new_rows.append((self._new_row(person, flat, digest), person))
        elif row.content_hash != digest:
            self.summary.changed += 1
            before = person_from_fields(person.person_id, row.fields)
            _fill(row, person, flat, digest)
            self.changed_rows.append((row, before, person))
        else:
            self.summary.unchanged += 1

    def _new_row(self, person: Person, flat: dict[str, str | None], digest: str) -> models.Person:
        row = models.Person(source=self.source, person_id=person.person_id)
        _fill(row, person, flat, digest)
        return row

    def flush(self) -> None:
        """Write one batch in one transaction: persons, change log, tickets, and what triggers do
        to those tickets (one commit per batch, not one per row)."""
        with transaction.atomic(), batched_entries():
            self._write_batch()

    def _write_batch(self) -> None:
        changes: list[models.PersonnelChange | None] = []
        created = models.Person.objects.bulk_create([row for row, _ in self.new_rows])
        for row, (_, person) in zip(created, self.new_rows, strict=True):
            self.known[row.person_id] = row
            changes.append(self._change_row(row, None, person))
        _update_people([row for row, _, _ in self.changed_rows])
        changes += [
            self._change_row(row, before, after) for row, before, after in self.changed_rows
        ]
        logged = models.PersonnelChange.objects.bulk_create([c for c in changes if c is not None])
        if self.with_tickets:
            open_tickets(logged, self.events, people=self.known)
        models.InvalidRecord.objects.bulk_create(self.invalid_rows)
        self.new_rows, self.changed_rows, self.invalid_rows = [], [], []

    def _change_row(
        self, row: models.Person, before: Person | None, after: Person
    ) -> models.PersonnelChange | None:
        change = classify_change(before, after, self.today)
        if change is None:
            return None
        return models.PersonnelChange(
            source_import=self.record,
            person=row,
            kind=change.kind,
            is_new=change.is_new,
            changed={name: [old, new] for name, (old, new) in change.changed.items()},
        )


UPDATED_FIELDS = ("employee_number", "display_name", "fields", "content_hash", "updated")
"""What an import writes to a stored person that changed (`_fill` sets them)."""
_UPDATE_PERSON = "UPDATE {table} SET {assignments} WHERE {pk} = %s"
"""Names come from the model; every value is a parameter."""


def _update_people(rows: list[models.Person]) -> None:
    """Write `UPDATED_FIELDS` of these stored persons: one UPDATE by id, run for every row.

    Raw SQL for one reason: `bulk_update` builds a CASE WHEN expression per row and field in
    Python, which cost 7 s per 10,000 changed persons on SQLite (this costs 0.3 s), and would
    on PostgreSQL too. Each value is adapted by its own field, as the ORM would."""
    if not rows:
        return
    meta, quote = models.Person._meta, connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if field.name in UPDATED_FIELDS]
    # A field's column is its db_column, else its attname (Django's own rule, typed as text).
    assignments = ", ".join(f"{quote(field.db_column or field.attname)} = %s" for field in fields)
    sql = _UPDATE_PERSON.format(table=quote(meta.db_table), assignments=assignments, pk="id")
    values = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _fill(row: models.Person, person: Person, flat: dict[str, str | None], digest: str) -> None:
    row.employee_number = person.employee_number
    row.display_name = person.display_name
    row.fields = flat
    row.content_hash = digest
    row.updated = timezone.now()
