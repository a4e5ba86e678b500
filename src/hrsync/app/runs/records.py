"""What a run writes down as it goes: each planned change, its outcome (in batches), an audit
event per applied change, and the links between persons and their accounts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hrsync.app import models
from hrsync.app.runs.groups import audit_after, audit_kind
from hrsync.domain.account import Account
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.plan import Outcome, Plan, Status, serialise_changes

BATCH = 500
DN_CHANGING_KINDS = frozenset({"create", "rename", "move"})
Progress = Callable[[int, int], None]
"""Called with (changes handled, changes planned)."""


def refresh_links(
    connection: models.Connection,
    accounts: Sequence[Account],
    rows: dict[str, models.Person],
    id_attribute: str,
) -> dict[PersonId, AccountId]:
    """Link every account carrying a known person id; write only links that changed."""
    stored = {link.person_id: link for link in models.Link.objects.filter(connection=connection)}
    changed: list[models.Link] = []
    for account in accounts:
        row = rows.get(account.attributes.get(id_attribute) or "")
        if row is None:
            continue
        link = stored.get(row.pk)
        if link is None or (link.account_id, link.ref) != (account.account_id, account.ref):
            link = models.Link(
                connection=connection, person=row, account_id=account.account_id, ref=account.ref
            )
            stored[row.pk] = link
            changed.append(link)
    _upsert_links(changed)
    by_pk = {row.pk: pid for pid, row in rows.items()}
    return {
        PersonId(by_pk[pk]): AccountId(link.account_id)
        for pk, link in stored.items()
        if link.account_id and pk in by_pk
    }


def _upsert_links(links: list[models.Link], fields: Sequence[str] = ("account_id", "ref")) -> None:
    models.Link.objects.bulk_create(
        links,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["connection", "person"],
        update_fields=[*fields, "updated"],
    )


class OutcomeRecorder:
    """Stores the planned changes, then their outcomes in batches, and links new accounts."""

    def __init__(
        self, run: models.Run, plan: Plan, rows: dict[str, models.Person], progress: Progress | None
    ) -> None:
        self.run, self.progress, self.rows, self.total = run, progress, rows, len(plan.changes)
        records = [
            models.RunChange(
                run=run,
                person=rows.get(str(item.get("person_id", ""))),
                kind=str(item["kind"]),
                ref=str(item.get("ref") or ""),
                payload=item,
            )
            for item in serialise_changes(plan.changes)
        ]
        self.records = models.RunChange.objects.bulk_create(records, batch_size=BATCH)
        self.pending: list[tuple[models.RunChange, Outcome]] = []
        self.done = 0

    def take(self, outcome: Outcome) -> None:
        self.pending.append((self.records[self.done], outcome))
        self.done += 1
        if len(self.pending) >= BATCH:
            self.flush()
        if self.progress is not None:
            self.progress(self.done, self.total)

    def flush(self) -> None:
        for record, outcome in self.pending:
            record.status, record.error = outcome.status, outcome.error or ""
        models.RunChange.objects.bulk_update([r for r, _ in self.pending], ["status", "error"])
        links = [
            models.Link(
                connection=self.run.connection,
                person=record.person,
                account_id=outcome.account_id or "",
                ref=outcome.ref or "",
            )
            for record, outcome in self.pending
            if outcome.status is Status.APPLIED
            and record.person is not None
            and record.kind in DN_CHANGING_KINDS
        ]
        models.AuditEvent.objects.bulk_create(
            [
                _audit_event(self.run, record, outcome)
                for record, outcome in self.pending
                if outcome.status is Status.APPLIED
            ]
        )
        # The new DN is known now; the objectGUID of a new account is linked on the next read.
        _upsert_links(links, fields=["ref"])
        self.pending = []


def _audit_event(run: models.Run, record: models.RunChange, outcome: Outcome) -> models.AuditEvent:
    """One audit event per applied change: what the target looked like before and after."""
    payload = record.payload
    return models.AuditEvent(
        actor=run.started_by,
        action=f"change.{record.kind}",
        object_type=audit_kind(record.kind),
        object_key=outcome.ref or record.ref,
        connection_key=run.connection.key,
        person_id=record.person.person_id if record.person else "",
        before=_jsonable(payload.get("before")),
        after=audit_after(payload),
    )


def _jsonable(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
