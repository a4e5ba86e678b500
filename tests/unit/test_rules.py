"""Event-trigger rules: operators, all/any, validation messages, safe comment text, properties."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.engine.conditions import OPERATORS, Condition
from hrsync.engine.rules import (
    EVENTS,
    Action,
    Rule,
    render_text,
    rule_from_json,
    rule_matches,
    validate_rule,
)

SEED_RULE = Rule(
    "provision-new-hires",
    "ticket.created",
    "all",
    (Condition("created", "equals", True), Condition("source", "equals", "FlexHR")),
    (Action("provision", {"connection": "ad"}),),
)
KNOWN: dict[str, set[str]] = {
    "connections": {"ad", "scim-slack"},
    "channels": {"it", "managers"},
    "templates": {"import_held", "joiner_provisioned", "provisioning_failed", "run_held"},
}
SUBJECT: dict[str, Any] = {
    "created": True,
    "source": "FlexHR",
    "kind": "joiner",
    "title": "  Senior Controller ",
    "department": None,
    "office": "",
    "is_external": False,
    "changed_fields": ["title", "org.Department"],
    "ticket_id": 12,
    "email": "anna.berg@acme.example",
}


def holds(name: str, op: str, value: Any = None, subject: dict[str, Any] = SUBJECT) -> bool:
    return rule_matches(Rule("r", "ticket.created", "all", (Condition(name, op, value),)), subject)


@pytest.mark.parametrize(
    ("name", "op", "value", "expected"),
    [
        ("source", "equals", "FlexHR", True),
        ("source", "equals", " flexhr ", True),  # case and surrounding spaces do not matter
        ("source", "equals", "AFAS", False),
        ("source", "not_equals", "AFAS", True),
        ("source", "not_equals", "FLEXHR", False),
        ("title", "equals", "senior controller", True),
        ("created", "equals", True, True),
        ("created", "equals", "true", True),
        ("created", "equals", "Yes", True),
        ("created", "equals", "no", False),
        ("is_external", "equals", "no", True),
        ("is_external", "equals", False, True),
        ("ticket_id", "equals", 12, True),
        ("ticket_id", "equals", "12", True),
        ("kind", "in", ("joiner", "rehire"), True),
        ("kind", "in", ("LEAVER",), False),
        ("changed_fields", "in", ("title", "email"), True),  # a list field: any overlap
        ("changed_fields", "in", ("email",), False),
        ("changed_fields", "contains", "TITLE", True),  # a list field: membership
        ("changed_fields", "contains", "tit", False),
        ("changed_fields", "equals", ("org.department", "title"), True),  # same items, any order
        ("email", "contains", "@ACME.", True),  # text: substring
        ("email", "contains", "@globex.", False),
        ("department", "is_empty", None, True),
        ("office", "is_empty", None, True),
        ("title", "is_empty", None, False),
        ("assignee", "is_empty", None, True),  # a field the subject lacks is empty
        ("changed_fields", "is_not_empty", None, True),
        ("department", "equals", "", True),
        ("source", "sounds_like", "FlexHR", False),  # an unknown operator never holds
    ],
)
def test_each_operator(name: str, op: str, value: Any, expected: bool) -> None:
    assert holds(name, op, value) is expected


def test_an_empty_list_is_empty() -> None:
    assert holds("changed_fields", "is_empty", subject={"changed_fields": []})


@pytest.mark.parametrize(
    ("match", "conditions", "expected"),
    [
        ("all", [("kind", "joiner"), ("source", "FlexHR")], True),
        ("all", [("kind", "joiner"), ("source", "AFAS")], False),
        ("any", [("kind", "leaver"), ("source", "FlexHR")], True),
        ("any", [("kind", "leaver"), ("source", "AFAS")], False),
        ("all", [], True),
        ("any", [], True),  # no conditions: always
    ],
)
def test_all_and_any(match: str, conditions: list[tuple[str, str]], expected: bool) -> None:
    rule = Rule(
        "r", "ticket.created", match, tuple(Condition(f, "equals", v) for f, v in conditions)
    )
    assert rule_matches(rule, SUBJECT) is expected


def test_the_seeds_rule_matches_a_flexhr_creation_and_not_an_update() -> None:
    creation = {"created": True, "source": "FlexHR", "kind": "joiner"}
    assert rule_matches(SEED_RULE, creation)
    assert not rule_matches(SEED_RULE, creation | {"created": False})
    assert not rule_matches(SEED_RULE, creation | {"source": "AFAS"})
    assert validate_rule(SEED_RULE, **KNOWN) == []


def rule(*conditions: Condition, event: str = "ticket.created", **action: Any) -> Rule:
    do = action.pop("do", "provision")
    params = action or ({"connection": "ad"} if do == "provision" else {})
    return Rule("r", event, "all", conditions, (Action(do, params),))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            rule(Condition("sorce", "equals", "FlexHR")),
            "condition 1: the event ticket.created has no field 'sorce' (did you mean 'source'?)",
        ),
        (
            rule(Condition("kind", "equals", "joiner"), Condition("source", "eq", "FlexHR")),
            "condition 2: unknown operator 'eq'",
        ),
        (
            rule(Condition("kind", "equals", "joiner"), Condition("title", "is_empty", "x")),
            "condition 2: the operator 'is_empty' takes no value",
        ),
        (rule(Condition("kind", "equals")), "condition 1: the operator 'equals' needs a value"),
        (rule(Condition("kind", "in", "joiner")), "the operator 'in' takes a list of values"),
        (rule(Condition("kind", "equals", ("a", "b"))), "use 'in' to compare with a list"),
        (rule(Condition("created", "equals", "maybe")), "is true or false, not 'maybe'"),
        (rule(Condition("created", "contains", "t")), "'contains' does not apply to 'created'"),
        (rule(connection="ad2"), "action 1: unknown connection 'ad2' (did you mean 'ad'?)"),
        (rule(conection="ad"), "action 1: provision takes no 'conection' (did you mean"),
        (rule(conection="ad"), "action 1: provision needs a connection"),
        (rule(do="provison", connection="ad"), "unknown action 'provison' (did you mean"),
        (rule(do="notify", channel="itt", template="run_held"), "unknown channel 'itt'"),
        (rule(do="notify", channel="it", template="hello"), "unknown template 'hello'"),
        (
            rule(do="notify", channel="it", template="run_held", to="it@acme.example"),
            "'to' must be a list of addresses",
        ),
        (rule(do="comment", text="Welcome {nme}"), "the text uses {nme}, but the event"),
        (rule(do="comment", text="  "), "the comment's text is empty"),
        (rule(do="assign"), "assign needs a user or a group"),
        (rule(do="set_priority", priority="hi"), "the priority is one of low, normal, high"),
        (
            rule(event="run.failed"),
            "provision needs an event about a person, and run.failed is not one",
        ),
        (
            rule(event="import.invalid", do="comment", text="x"),
            "comment needs an event with a ticket, and import.invalid has none",
        ),
        (rule(event="ticket.opened"), "unknown event 'ticket.opened' (did you mean"),
        (Rule("r", "ticket.created", "some", (), (Action("run", {"connection": "ad"}),)), "match"),
        (Rule("r", "ticket.created"), "a rule needs at least one action"),
    ],
)
def test_validation_explains_every_problem(bad: Rule, message: str) -> None:
    problems = validate_rule(bad, **KNOWN)
    assert any(message in problem for problem in problems), problems


def test_validation_reports_all_problems_at_once() -> None:
    bad = Rule(
        "r",
        "ticket.created",
        "all",
        (Condition("sorce", "equals", "FlexHR"), Condition("kind", "is_empty", "x")),
        (Action("provision", {"connection": "ad2"}), Action("notify", {"channel": "x"})),
    )
    problems = validate_rule(bad, **KNOWN)
    assert [p.split(":")[0] for p in problems] == [
        "condition 1",
        "condition 2",
        "action 1",
        "action 2",
        "action 2",
    ]


def test_a_rule_on_every_action_of_a_ticket_event_is_valid() -> None:
    actions = (
        Action("provision", {"connection": "ad"}),
        Action("run", {"connection": "scim-slack"}),
        Action("notify", {"channel": "it", "template": "run_held", "to": ["it@acme.example"]}),
        Action("comment", {"text": "Provisioning {person_name} ({employee_number})"}),
        Action("assign", {"group": "IT"}),
        Action("set_priority", {"priority": "high"}),
    )
    for event in ("ticket.created", "ticket.updated", "ticket.closed"):
        assert validate_rule(Rule("r", event, "any", (), actions), **KNOWN) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Welcome {person_name} ({employee_number})", "Welcome Anna Berg (1042)"),
        ("External: {is_external}", "External: no"),
        ("Changed: {changed_fields}", "Changed: title, email"),
        ("Missing: [{title}]", "Missing: []"),
        ("{person_name.__class__} {person_name[0]} {0} {secret}", None),  # left as written
        ("Braces { alone } and {{ double }}", None),
    ],
)
def test_comment_text_substitutes_only_the_events_own_fields(text: str, expected: str) -> None:
    subject = {
        "person_name": "Anna Berg",
        "employee_number": "1042",
        "is_external": False,
        "changed_fields": ["title", "email"],
        "secret": "hunter2",
    }
    assert render_text(text, subject, event="ticket.created") == (expected or text)


def test_stored_json_reads_back_into_the_same_rule() -> None:
    read = rule_from_json(
        "provision-new-hires",
        "ticket.created",
        "all",
        [
            {"field": "created", "op": "equals", "value": True},
            {"field": "source", "op": "equals", "value": "FlexHR"},
        ],
        [{"do": "provision", "connection": "ad"}],
    )
    assert read == SEED_RULE
    listed = rule_from_json(
        "r", "ticket.created", "all", [{"field": "kind", "op": "in", "value": ["a"]}], []
    )
    assert listed.conditions[0].value == ("a",)


@pytest.mark.parametrize(
    ("conditions", "actions"),
    [
        ([{"field": "kind"}], []),
        ([{"field": "kind", "op": "in", "value": [{"a": 1}]}], []),
        ([], [{"connection": "ad"}]),
    ],
)
def test_a_malformed_stored_rule_is_refused(
    conditions: list[dict[str, Any]], actions: list[dict[str, Any]]
) -> None:
    with pytest.raises(ValueError):
        rule_from_json("r", "ticket.created", "all", conditions, actions)


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
field_names = st.sampled_from(sorted(set().union(*EVENTS.values()))) | st.text(max_size=10)
condition_values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.lists(st.booleans() | st.integers() | st.text(max_size=10), max_size=3).map(tuple)
)
conditions = st.builds(
    Condition, field_names, st.sampled_from(OPERATORS) | st.text(max_size=8), condition_values
)
rules = st.builds(
    Rule,
    st.just("r"),
    st.sampled_from(sorted(EVENTS)),
    st.sampled_from(["all", "any", "some"]),
    st.lists(conditions, max_size=4).map(tuple),
)


@given(rules, st.dictionaries(field_names, values, max_size=8))
def test_matching_never_raises_for_any_subject(rule: Rule, subject: dict[str, Any]) -> None:
    assert rule_matches(rule, subject) in (True, False)


@given(conditions, st.dictionaries(field_names, values, max_size=8))
def test_not_equals_is_the_negation_of_equals(
    condition: Condition, subject: dict[str, Any]
) -> None:
    def with_op(op: str) -> bool:
        return rule_matches(
            Rule("r", "ticket.created", "all", (Condition(condition.field, op, condition.value),)),
            subject,
        )

    assert with_op("equals") is not with_op("not_equals")
    assert with_op("is_empty") is not with_op("is_not_empty")


@given(rules, st.lists(field_names, max_size=3), st.text(max_size=40))
def test_rendering_never_raises(rule: Rule, names: list[str], text: str) -> None:
    subject = {name: name for name in names}
    assert isinstance(render_text(text, subject, event=rule.event), str)


def documented_triggers() -> dict[str, dict[str, Any]]:
    text = (Path(__file__).parents[2] / "docs" / "triggers.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, re.DOTALL)
    return {
        name: entry for block in blocks for name, entry in tomllib.loads(block)["triggers"].items()
    }


def test_the_documented_examples_are_valid_rules() -> None:
    examples = documented_triggers()
    assert next(iter(examples)) == "provision-new-hires"
    known = {"connections": {"ad"}, "channels": {"it", "admins"}, "templates": KNOWN["templates"]}
    for name, entry in examples.items():
        read = rule_from_json(
            name,
            entry["event"],
            entry.get("match", "all"),
            entry.get("conditions", []),
            entry["actions"],
        )
        assert validate_rule(read, **known) == [], name
    seed = examples["provision-new-hires"]
    assert (
        rule_from_json(
            "provision-new-hires", seed["event"], seed["match"], seed["conditions"], seed["actions"]
        )
        == SEED_RULE
    )
