"""Event triggers as data: the event catalogue, conditions and actions, validation, matching.

Conditions themselves (operators, evaluation, their validation) are hrsync.engine.conditions,
shared with connection scopes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from hrsync.engine.conditions import (
    MATCHES,
    Condition,
    as_text,
    condition_from_json,
    condition_problems,
    conditions_hold,
    hint,
)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TICKET_FIELDS = _names(
    """created source source_key kind status priority ticket_id employee_number person_name email
    company title department office employment_type is_external changed_fields assignee"""
)
_RUN_FIELDS = _names(
    "connection connection_type run_id error reasons create update disable delete move"
)

EVENTS: Final[dict[str, frozenset[str]]] = {
    "ticket.created": _TICKET_FIELDS,
    "ticket.updated": _TICKET_FIELDS,
    "ticket.closed": _TICKET_FIELDS,
    "run.failed": _RUN_FIELDS,
    "run.held": _RUN_FIELDS,
    "change.failed": _names(
        """connection connection_type run_id change_kind error is_transient employee_number
        person_name ticket_id"""
    ),
    "manager.unresolved": _names(
        "connection employee_number person_name manager_name manager_employee_number ticket_id"
    ),
    "import.invalid": _names("source source_key count import_id"),
    "contract.step_failed": _names(
        "integration contract_id contract_name step error what_to_do employee_number person_name"
    ),
    "contract.signed": _names("integration contract_id contract_name employee_number person_name"),
    "import.held": _names("source source_key count previous_count import_id reason"),
}
"""Every event and the fields it offers to conditions (and to `{field}` in comments)."""

PERSON_EVENTS: Final = frozenset(e for e, fields in EVENTS.items() if "employee_number" in fields)
"""Events about one person: the only ones a `provision` action makes sense for."""
TICKET_EVENTS: Final = frozenset(e for e, fields in EVENTS.items() if "ticket_id" in fields)
"""Events that can carry a ticket: the only ones comment, assign and set_priority apply to."""

PRIORITIES: Final = ("low", "normal", "high", "urgent")

ACTION_PARAMS: Final[dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    "provision": (frozenset({"connection"}), frozenset()),
    "run": (frozenset({"connection"}), frozenset()),
    "notify": (frozenset({"channel", "template"}), frozenset({"to"})),
    "comment": (frozenset({"text"}), frozenset()),
    "assign": (frozenset(), frozenset({"user", "group"})),
    "set_priority": (frozenset({"priority"}), frozenset()),
}
"""Each action and its (required, optional) parameters."""
TICKET_ACTIONS: Final = frozenset({"comment", "assign", "set_priority"})

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Action:
    do: str
    params: dict[str, object] = field(default_factory=dict, hash=False)

    def text(self, name: str) -> str:
        """A parameter as text ("" when absent)."""
        value = self.params.get(name)
        return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    event: str
    match: str = "all"
    conditions: tuple[Condition, ...] = ()
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class KnownNames:
    """What actions may name: configured connections and channels, notification templates."""

    connections: frozenset[str]
    channels: frozenset[str]
    templates: frozenset[str]


# --- matching -------------------------------------------------------------------------------


def rule_matches(rule: Rule, subject: Mapping[str, object]) -> bool:
    """Whether the conditions hold for the event's fields; a rule without conditions always does.

    Never raises: a missing field counts as empty, an unknown operator never holds.
    """
    return conditions_hold(rule.match, rule.conditions, subject)


# --- text with {field} placeholders ---------------------------------------------------------


def render_text(text: str, subject: Mapping[str, object], *, event: str) -> str:
    """Replace `{field}` by the subject's value for the event's own fields, and nothing else.

    No attribute or index access, no format specs: `{person.name}` or `{0}` stay as written.
    """
    fields = EVENTS.get(event, frozenset())

    def substitute(found: re.Match[str]) -> str:
        name = found.group(1)
        return _display(subject.get(name)) if name in fields else found.group(0)

    return _PLACEHOLDER.sub(substitute, text)


def _display(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(as_text(item) for item in value)
    return as_text(value)


# --- validation -----------------------------------------------------------------------------


def validate_rule(
    rule: Rule, *, connections: set[str], channels: set[str], templates: set[str]
) -> list[str]:
    """Every problem with the rule, in words an admin understands; empty when it is sound."""
    known = KnownNames(frozenset(connections), frozenset(channels), frozenset(templates))
    problems = _rule_problems(rule)
    fields = EVENTS.get(rule.event)
    for number, condition in enumerate(rule.conditions, 1):
        found = _field_problems(condition, rule.event, fields) + condition_problems(condition)
        problems += [f"condition {number}: {problem}" for problem in found]
    for number, action in enumerate(rule.actions, 1):
        problems += [f"action {number}: {p}" for p in _action_problems(action, rule.event, known)]
    return problems


def _rule_problems(rule: Rule) -> list[str]:
    problems = []
    if rule.event not in EVENTS:
        problems.append(f"unknown event '{rule.event}'{hint(rule.event, EVENTS)}")
    if rule.match not in MATCHES:
        problems.append(f"match is 'all' or 'any', not '{rule.match}'")
    if not rule.actions:
        problems.append("a rule needs at least one action")
    return problems


def _no_such_field(event: str, name: str, fields: Iterable[str]) -> str:
    return f"the event {event} has no field '{name}'{hint(name, fields)}"


def _field_problems(condition: Condition, event: str, fields: frozenset[str] | None) -> list[str]:
    if fields is None or condition.field in fields:
        return []
    return [_no_such_field(event, condition.field, fields)]


def _action_problems(action: Action, event: str, known: KnownNames) -> list[str]:
    if action.do not in ACTION_PARAMS:
        return [f"unknown action '{action.do}'{hint(action.do, ACTION_PARAMS)}"]
    problems = _param_problems(action) + _scope_problems(action, event)
    match action.do:
        case "provision" | "run":
            problems += _name_problems(action, "connection", known.connections)
        case "notify":
            problems += _name_problems(action, "channel", known.channels)
            problems += _name_problems(action, "template", known.templates)
            problems += _recipient_problems(action.params.get("to"))
        case "comment":
            problems += _text_problems(action, event)
        case "assign":
            if not (action.params.get("user") or action.params.get("group")):
                problems.append("assign needs a user or a group")
        case "set_priority":
            priority = action.params.get("priority")
            if "priority" in action.params and priority not in PRIORITIES:
                problems.append(f"the priority is one of {', '.join(PRIORITIES)}, not '{priority}'")
    return problems


def _param_problems(action: Action) -> list[str]:
    required, optional = ACTION_PARAMS[action.do]
    allowed = required | optional
    problems = [
        f"{action.do} takes no '{name}'{hint(name, allowed)}"
        for name in action.params
        if name not in allowed
    ]
    problems += [f"{action.do} needs a {name}" for name in sorted(required - action.params.keys())]
    problems += [
        f"'{name}' must be text"
        for name in sorted(allowed - {"to"})
        if name in action.params and not isinstance(action.params[name], str)
    ]
    return problems


def _scope_problems(action: Action, event: str) -> list[str]:
    if event not in EVENTS:
        return []
    if action.do == "provision" and event not in PERSON_EVENTS:
        return [f"provision needs an event about a person, and {event} is not one (use 'run')"]
    if action.do in TICKET_ACTIONS and event not in TICKET_EVENTS:
        return [f"{action.do} needs an event with a ticket, and {event} has none"]
    return []


def _name_problems(action: Action, param: str, known: frozenset[str]) -> list[str]:
    name = action.params.get(param)
    if not isinstance(name, str) or name in known:
        return []
    return [f"unknown {param} '{name}'{hint(name, known)}"]


def _recipient_problems(to: object) -> list[str]:
    if to is None:
        return []
    if isinstance(to, list | tuple) and all(isinstance(item, str) and item for item in to):
        return []
    return ["'to' must be a list of addresses, e.g. to = [\"it@example.com\"]"]


def _text_problems(action: Action, event: str) -> list[str]:
    text = action.params.get("text")
    if not isinstance(text, str):
        return []
    if not text.strip():
        return ["the comment's text is empty"]
    fields = EVENTS.get(event)
    if fields is None:
        return []
    return [
        f"the text uses {{{name}}}, but {_no_such_field(event, name, fields)}"
        for name in dict.fromkeys(_PLACEHOLDER.findall(text))
        if name not in fields
    ]


# --- reading rules from stored JSON ---------------------------------------------------------


def rule_from_json(
    name: str,
    event: str,
    match: str,
    conditions: Sequence[Mapping[str, object]],
    actions: Sequence[Mapping[str, object]],
) -> Rule:
    """A rule from its stored form: conditions `{field, op, value?}`, actions `{do, **params}`.

    Raises ValueError when the shape is wrong; whether the rule makes sense is `validate_rule`'s.
    """
    return Rule(
        name,
        event,
        match,
        tuple(condition_from_json(raw) for raw in conditions),
        tuple(action_from_json(raw) for raw in actions),
    )


def action_from_json(raw: Mapping[str, object]) -> Action:
    do = raw.get("do")
    if not isinstance(do, str):
        raise ValueError("an action needs 'do', e.g. do = \"provision\"")
    return Action(do, {key: value for key, value in raw.items() if key != "do"})
