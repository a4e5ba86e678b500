"""A trigger as a form: the rule's header, one row per condition and per action, and back.

Rows are named `cond-<i>-field|op|value` and `act-<i>-do|<param>`; an empty row is ignored, so
the form can always offer blank rows. The stored shape is the one `[triggers.NAME]` loads
(hrsync.app.triggers.config): conditions `{field, op, value?}`, actions `{do, **params}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from hrsync.app.models import Channel, Connection, Trigger
from hrsync.app.notify import DEFAULT_TEMPLATES
from hrsync.engine.conditions import LIST_FIELDS, MATCHES, OPERATORS, VALUELESS_OPERATORS
from hrsync.engine.rules import ACTION_PARAMS, EVENTS, PRIORITIES, rule_from_json, validate_rule

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_ROWS = 50
BLANK_ROWS = 1
PARAMS = sorted(
    {name for required, optional in ACTION_PARAMS.values() for name in required | optional}
)
"""Every action parameter; a row shows those of its action (the others are ignored)."""
_TAKEN_BY = {
    param: {
        do for do, (required, optional) in ACTION_PARAMS.items() if param in required | optional
    }
    for param in PARAMS
}
PARAM_LABELS = {
    "to": "Extra recipients (comma-separated)",
    "text": "Comment text ({field} placeholders)",
}


@dataclass
class TriggerDraft:
    """What the form holds: the values to store, and every problem with them."""

    name: str
    values: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def empty_values() -> dict[str, Any]:
    return {
        "event": "ticket.created",
        "match": "all",
        "conditions": [],
        "actions": [],
        "order": 100,
        "is_enabled": True,
        "description": "",
    }


def stored_values(row: Trigger) -> dict[str, Any]:
    return {
        "event": row.event,
        "match": row.match,
        "conditions": list(row.conditions),
        "actions": list(row.actions),
        "order": row.order,
        "is_enabled": row.is_enabled,
        "description": row.description,
    }


def read_draft(post: QueryDict, name: str) -> TriggerDraft:
    """The trigger the form describes, checked: name, order, then `validate_rule`'s messages."""
    problems: list[str] = []
    if not NAME.fullmatch(name):
        problems.append("The name is 1-64 letters, digits, '-' and '_'.")
    order = post.get("order", "100").strip()
    if not order.isdigit():
        problems.append("The order is a whole number, 0 or more.")
    values: dict[str, Any] = {
        "event": post.get("event", ""),
        "match": post.get("match", "all"),
        "conditions": read_conditions(post),
        "actions": read_actions(post),
        "order": int(order) if order.isdigit() else 100,
        "is_enabled": post.get("is_enabled") == "on",
        "description": post.get("description", "").strip()[:300],
    }
    rule = rule_from_json(
        name or "new", values["event"], values["match"], values["conditions"], values["actions"]
    )
    problems += validate_rule(rule, **known_names())
    return TriggerDraft(name, values, problems)


def known_names() -> dict[str, set[str]]:
    """What actions may name, as `validate_rule` wants it."""
    return {
        "connections": set(Connection.objects.values_list("key", flat=True)),
        "channels": set(Channel.objects.values_list("name", flat=True)),
        "templates": set(DEFAULT_TEMPLATES),
    }


def read_conditions(post: QueryDict) -> list[dict[str, Any]]:
    conditions = []
    for index in range(MAX_ROWS):
        name = post.get(f"cond-{index}-field", "").strip()
        if not name:
            continue
        op = post.get(f"cond-{index}-op", "equals")
        condition: dict[str, Any] = {"field": name, "op": op}
        value = condition_value(name, op, post.get(f"cond-{index}-value", ""))
        if value is not None:
            condition["value"] = value
        conditions.append(condition)
    return conditions


def condition_value(name: str, op: str, text: str) -> str | list[str] | None:
    """The typed value as stored: none for is_empty, a list for `in` (comma-separated)."""
    text = text.strip()
    if op in VALUELESS_OPERATORS:
        return None
    if op == "in" or (name in LIST_FIELDS and "," in text):
        return [item.strip() for item in text.split(",") if item.strip()]
    return text or None


def read_actions(post: QueryDict) -> list[dict[str, Any]]:
    actions = []
    for index in range(MAX_ROWS):
        do = post.get(f"act-{index}-do", "").strip()
        if not do:
            continue
        required, optional = ACTION_PARAMS.get(do, (frozenset(), frozenset()))
        action: dict[str, Any] = {"do": do}
        for param in sorted(required | optional):
            typed = post.get(f"act-{index}-{param}", "").strip()
            if typed and param == "to":
                action[param] = [item.strip() for item in typed.split(",") if item.strip()]
            elif typed:
                action[param] = typed
        actions.append(action)
    return actions


def condition_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored conditions as form rows (values as typed), and blank rows after them."""
    rows = [
        {
            "index": i,
            "field": c.get("field", ""),
            "op": c.get("op", ""),
            "value": as_text(c.get("value")),
        }
        for i, c in enumerate(values["conditions"])
    ]
    return rows + [blank_condition(len(rows) + i) for i in range(BLANK_ROWS)]


def action_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored actions as form rows, each with every parameter input, then blank rows."""
    options = param_options()
    rows = [action_row(i, action, options) for i, action in enumerate(values["actions"])]
    return rows + [action_row(len(rows) + i, {}, options) for i in range(BLANK_ROWS)]


def blank_condition(index: int) -> dict[str, Any]:
    return {"index": index, "field": "", "op": "equals", "value": ""}


def action_row(index: int, action: dict[str, Any], options: dict[str, list[str]]) -> dict[str, Any]:
    """One action row. Each parameter input is classed with the actions that take it, so the
    stylesheet can show only the chosen action's inputs."""
    params = [
        {
            "name": param,
            "label": PARAM_LABELS.get(param, param),
            "value": as_text(action.get(param)),
            "classes": " ".join(f"for-{do}" for do in sorted(_TAKEN_BY[param])),
            "options": options.get(param),
        }
        for param in PARAMS
    ]
    return {"index": index, "do": action.get("do", ""), "params": params}


def param_options() -> dict[str, list[str]]:
    """The choices of the parameters that name something hrsync knows."""
    return {
        "connection": sorted(Connection.objects.values_list("key", flat=True)),
        "channel": sorted(Channel.objects.values_list("name", flat=True)),
        "template": sorted(DEFAULT_TEMPLATES),
        "priority": list(PRIORITIES),
    }


def as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(as_text(item) for item in value)
    return str(value)


def choices() -> dict[str, Any]:
    """The options the form's selects and lists offer."""
    return {
        "events": sorted(EVENTS),
        "event_fields": [(event, sorted(fields)) for event, fields in sorted(EVENTS.items())],
        "all_fields": sorted(set().union(*EVENTS.values())),
        "operators": OPERATORS,
        "matches": MATCHES,
        "action_kinds": sorted(ACTION_PARAMS),
    }


def describe_conditions(row: Trigger) -> str:
    """ "source equals FlexHR and created equals true": a trigger's conditions in one line."""
    joiner = " and " if row.match == "all" else " or "
    parts = [
        " ".join(filter(None, [str(c.get("field")), str(c.get("op", "")), as_text(c.get("value"))]))
        for c in row.conditions
    ]
    return joiner.join(parts) or "always"


def describe_actions(row: Trigger) -> str:
    return "; ".join(
        " ".join([str(a.get("do"))] + [f"{k}={as_text(v)}" for k, v in a.items() if k != "do"])
        for a in row.actions
    )
