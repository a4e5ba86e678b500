"""Fire event triggers: match the rules loaded once, perform their actions, record each firing.

A failing action never blocks the import or the run that fired it: its exception becomes a failed
result in the firing record, and the next action still runs. `provision` and `run` are batched:
`fire` queues them and `flush` starts one run per connection, so an import of 10,000 joiners
starts one focused run, not 10,000. Firings are written in bulk, never one query per event.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog

from hrsync.app.models import Person, Ticket, Trigger, TriggerFiring
from hrsync.app.triggers.actions import Actions
from hrsync.engine.rules import Action, Rule, render_text, rule_from_json, rule_matches

log = structlog.get_logger(__name__)

QUEUED_ACTIONS = frozenset({"provision", "run"})
WRITE_BATCH = 500
"""Completed firings are written once this many are waiting (and on flush)."""
MAX_DEPTH = 3
"""How deep trigger-started runs may start further runs: a guard against rule loops such as
"run failed → run the connection again"."""
QUEUED = "queued"

_depth: contextvars.ContextVar[int] = contextvars.ContextVar("hrsync_trigger_depth", default=0)

Result = dict[str, Any]
"""One action's outcome in a firing record: {"do", "ok", "detail"}."""


@dataclass(frozen=True, slots=True)
class LoadedTrigger:
    pk: int
    rule: Rule


@dataclass(frozen=True, slots=True)
class _Scope:
    """What one event's actions act on."""

    event: str
    subject: Mapping[str, Any]
    ticket: Ticket | None
    person_pk: int | None
    context: Mapping[str, Any]


@dataclass(slots=True)
class _Queue:
    """What is queued for one connection, and the results waiting for the outcome."""

    person_pks: set[int] = field(default_factory=set)
    waiting: list[Result] = field(default_factory=list)


class Dispatcher:
    """Evaluates the enabled triggers of each event in order; see the module docstring."""

    def __init__(self, triggers: Iterable[LoadedTrigger], actions: Actions) -> None:
        self._actions = actions
        self._by_event: dict[str, list[LoadedTrigger]] = {}
        for trigger in triggers:
            self._by_event.setdefault(trigger.rule.event, []).append(trigger)
        self._provisions: dict[str, _Queue] = {}
        self._runs: dict[str, _Queue] = {}
        self._complete: list[TriggerFiring] = []
        self._awaiting: list[TriggerFiring] = []

    @classmethod
    def load(cls, actions: Actions) -> Dispatcher:
        """The enabled triggers, in order, read once; a row that cannot be read is skipped."""
        loaded = []
        for row in Trigger.objects.filter(is_enabled=True).order_by("order", "name"):
            try:
                rule = rule_from_json(row.name, row.event, row.match, row.conditions, row.actions)
            except (ValueError, TypeError, AttributeError) as error:
                log.warning("trigger skipped: unreadable", trigger=row.name, error=str(error))
                continue
            loaded.append(LoadedTrigger(row.pk, rule))
        return cls(loaded, actions)

    @property
    def has_pending(self) -> bool:
        """Whether firings or queued actions wait for `flush`."""
        return bool(self._complete or self._awaiting or self._provisions or self._runs)

    def fire(
        self,
        event: str,
        subject: Mapping[str, Any],
        *,
        ticket: Ticket | None = None,
        person: Person | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Perform the actions of every enabled trigger whose conditions hold; never raises.

        `subject` holds the flat fields conditions see; `context` the nested template variables.
        """
        scope: _Scope | None = None
        for trigger in self._by_event.get(event, ()):
            if rule_matches(trigger.rule, subject):
                scope = scope or _scope(event, subject, ticket, person, context)
                self._perform(trigger, scope)
        if len(self._complete) >= WRITE_BATCH:
            _write(self._complete)
            self._complete = []

    def flush(self) -> None:
        """Start the queued runs (one per connection), then write every firing with its results.

        Runs started here may fire triggers of their own; each level of such nesting counts
        against MAX_DEPTH, so the loop below ends.
        """
        base = _depth.get()
        for level in range(base + 1, MAX_DEPTH + 1):
            if not (self._provisions or self._runs):
                break
            token = _depth.set(level)
            try:
                self._settle_queues()
            finally:
                _depth.reset(token)
        _write(self._complete + self._awaiting)
        self._complete, self._awaiting = [], []

    def _perform(self, trigger: LoadedTrigger, scope: _Scope) -> None:
        results, is_awaiting = [], False
        for action in trigger.rule.actions:
            result, is_queued = self._attempt(trigger.rule, action, scope)
            results.append(result)
            is_awaiting = is_awaiting or is_queued
        firing = TriggerFiring(
            trigger_id=trigger.pk,
            event=scope.event,
            subject=_recordable(scope.subject),
            results=results,
        )
        (self._awaiting if is_awaiting else self._complete).append(firing)

    def _attempt(self, rule: Rule, action: Action, scope: _Scope) -> tuple[Result, bool]:
        """The action's result, and whether it was queued for `flush`."""
        try:
            if action.do in QUEUED_ACTIONS:
                return self._enqueue(action, scope)
            return _result(action, True, self._perform_now(rule, action, scope)), False
        except Exception as error:  # a failing action must not block the import or the run
            log.warning("trigger action failed", trigger=rule.name, action=action.do, error=error)
            return _result(action, False, _plain(error)), False

    def _enqueue(self, action: Action, scope: _Scope) -> tuple[Result, bool]:
        if _depth.get() >= MAX_DEPTH:
            detail = "not started: too many runs started by triggers in a row (loop guard)"
            return _result(action, False, detail), False
        connection = action.text("connection")
        if action.do == "provision":
            if scope.person_pk is None:
                return _result(action, True, "skipped: the event names no person"), False
            queue = self._provisions.setdefault(connection, _Queue())
            queue.person_pks.add(scope.person_pk)
        else:
            queue = self._runs.setdefault(connection, _Queue())
        result = _result(action, True, QUEUED)
        queue.waiting.append(result)
        return result, True

    def _perform_now(self, rule: Rule, action: Action, scope: _Scope) -> str:
        if action.do == "notify":
            context = {"event": scope.event, "trigger": rule.name, **scope.subject}
            return self._actions.notify(
                action.text("channel"),
                action.text("template"),
                context | dict(scope.context),
                _recipients(action.params.get("to")),
            )
        if scope.ticket is None:
            return "skipped: the event has no ticket"
        return self._on_ticket(action, scope.ticket, scope)

    def _on_ticket(self, action: Action, ticket: Ticket, scope: _Scope) -> str:
        match action.do:
            case "comment":
                text = render_text(action.text("text"), scope.subject, event=scope.event)
                return self._actions.comment(ticket, text)
            case "assign":
                user, group = action.text("user") or None, action.text("group") or None
                return self._actions.assign(ticket, user, group)
            case "set_priority":
                return self._actions.set_priority(ticket, action.text("priority"))
        raise ValueError(f"unknown action '{action.do}'")

    def _settle_queues(self) -> None:
        provisions, runs = self._provisions, self._runs
        self._provisions, self._runs = {}, {}
        for key, queue in provisions.items():
            _settle(queue, partial(self._actions.provision, key, queue.person_pks))
        for key, queue in runs.items():
            _settle(queue, partial(self._actions.run, key))


def _settle(queue: _Queue, work: Callable[[], str]) -> None:
    """Do the queued work once and give every result waiting on it the outcome."""
    try:
        is_ok, detail = True, work()
    except Exception as error:  # recorded on every firing that asked for it, never raised
        log.warning("queued trigger action failed", error=error)
        is_ok, detail = False, _plain(error)
    for result in queue.waiting:
        result.update(ok=is_ok, detail=detail)


def _write(firings: list[TriggerFiring]) -> None:
    for firing in firings:
        firing.is_ok = all(result["ok"] for result in firing.results)
    TriggerFiring.objects.bulk_create(firings, batch_size=WRITE_BATCH)


def _scope(
    event: str,
    subject: Mapping[str, Any],
    ticket: Ticket | None,
    person: Person | None,
    context: Mapping[str, Any] | None,
) -> _Scope:
    person_pk = person.pk if person is not None else ticket.person_id if ticket else None
    return _Scope(event, subject, ticket, person_pk, context or {})


def _result(action: Action, is_ok: bool, detail: str) -> Result:
    return {"do": action.do, "ok": is_ok, "detail": detail}


def _plain(error: BaseException) -> str:
    return str(error).strip() or type(error).__name__


def _recipients(to: object) -> list[str] | None:
    return [str(item) for item in to] if isinstance(to, list | tuple) else None


def _recordable(value: Any) -> Any:
    """The subject as JSON can hold it: lists for sequences, text for anything else unusual."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(key): _recordable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_recordable(item) for item in value]
    return str(value)
