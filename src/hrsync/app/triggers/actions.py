"""What a trigger's actions do: a Protocol the dispatcher calls, and the real implementation.

Each verb returns a short detail for the firing record and raises when the action failed; the
dispatcher turns the exception into a failed result, so nothing here needs to catch for it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from hrsync.app.models import Connection, Person, Ticket
from hrsync.app.notify import send_notification
from hrsync.app.tickets.desk import add_comment, assign, set_priority


class ActionFailedError(Exception):
    """The action ran and did not do what it should; the message says what happened."""


class Actions(Protocol):
    def provision(self, connection: str, person_pks: set[int]) -> str: ...

    def run(self, connection: str) -> str: ...

    def notify(
        self, channel: str, template: str, context: Mapping[str, Any], to: list[str] | None
    ) -> str: ...

    def comment(self, ticket: Ticket, text: str) -> str: ...

    def assign(self, ticket: Ticket, user: str | None, group: str | None) -> str: ...

    def set_priority(self, ticket: Ticket, priority: str) -> str: ...


class RunResult(Protocol):
    """What the actions read of a finished run (hrsync.app.runs' RunSummary)."""

    @property
    def run_id(self) -> int: ...

    @property
    def status(self) -> str: ...

    @property
    def applied(self) -> int: ...

    @property
    def failed(self) -> int: ...


class StartRun(Protocol):
    """Runs a connection: hrsync.app.runs' run_connection, which fires events through this
    package and so is passed in rather than imported."""

    def __call__(
        self, key: str, *, only: Collection[str] = ..., started_by: str = ...
    ) -> RunResult: ...


class DefaultActions:
    """The actions as the product performs them: runs, notifications, ticket edits."""

    def __init__(self, start_run: StartRun) -> None:
        self._start_run = start_run

    def provision(self, connection: str, person_pks: set[int]) -> str:
        key = _existing_connection(connection)
        person_ids = set(
            Person.objects.filter(pk__in=person_pks).values_list("person_id", flat=True)
        )
        if not person_ids:  # an empty `only` means everyone: never widen a focused run
            raise ActionFailedError("the people to provision are no longer in the person store")
        summary = self._start_run(key, only=person_ids, started_by="trigger")
        who = "1 person" if len(person_ids) == 1 else f"{len(person_ids)} people"
        return _judge_run(f"provisioned {who} on {key}", summary)

    def run(self, connection: str) -> str:
        key = _existing_connection(connection)
        return _judge_run(f"ran {key}", self._start_run(key, started_by="trigger"))

    def notify(
        self, channel: str, template: str, context: Mapping[str, Any], to: list[str] | None
    ) -> str:
        delivery = send_notification(channel=channel, template=template, context=context, to=to)
        if delivery.status != "sent":
            reason = delivery.error or str(delivery.status)
            raise ActionFailedError(f"{template} not sent through {channel}: {reason}")
        return f"{template} sent through {channel}"

    def comment(self, ticket: Ticket, text: str) -> str:
        add_comment(ticket, text)
        return f"comment added to ticket {ticket.pk}"

    def assign(self, ticket: Ticket, user: str | None, group: str | None) -> str:
        return assign(ticket, user=user, group=group)

    def set_priority(self, ticket: Ticket, priority: str) -> str:
        return set_priority(ticket, priority)


def _existing_connection(key: str) -> str:
    if not Connection.objects.filter(key=key).exists():
        raise ActionFailedError(f"unknown connection '{key}' (was it removed from the config?)")
    return key


def _judge_run(what: str, summary: RunResult) -> str:
    """Say how the run went ("provisioned 1 person on ad: run 12 succeeded (1 applied)").

    Raises when it did not succeed: failed changes, a failed run, a plan held by the safety gate.
    """
    status = "held by the safety gate" if summary.status == "held" else summary.status
    detail = f"{what}: run {summary.run_id} {status} ({summary.applied} applied"
    detail += f", {summary.failed} failed)" if summary.failed else ")"
    if summary.status in ("succeeded", "simulated") and not summary.failed:
        return detail
    raise ActionFailedError(detail)
