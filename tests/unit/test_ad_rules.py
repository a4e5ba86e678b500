"""AD mapping rules: the defaults in the mapping language agree with the Python defaults, and an
admin's overrides replace or add attributes, fail per person without emptying anything, and are
checked before they are stored."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.connectors.active_directory.mapping import (
    MANAGED_ATTRIBUTES,
    DirectoryPolicy,
    desire_ad_account,
    truncate,
)
from hrsync.connectors.active_directory.rules import (
    AD_RULE_NAMES,
    DEFAULT_RULES,
    parse_placement,
    place,
)
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.mapping.expressions import EvaluationContext, evaluate, parse
from hrsync.mapping.expressions.limits import MAX_VALUE_LENGTH
from hrsync.mapping.rules import MappingRuleError, RuleProblem, apply_rules, day_start, parse_rules

TODAY = date(2026, 11, 28)
POLICY = DirectoryPolicy(users_ou="OU=People,DC=example,DC=test", upn_suffix="example.test")
names = st.text(st.sampled_from("aAåÅäÄöÖéüø -'Zz,+\"\\<>;=#"), min_size=0, max_size=30).map(
    str.strip
)
maybe = st.none() | names.filter(bool)


@st.composite
def people(draw: st.DrawFn) -> Person:
    levels = draw(st.lists(st.sampled_from(["Office", "Department", "Team"]), unique=True))
    return Person(
        person_id=PersonId(draw(st.uuids()).hex),
        employee_number=EmployeeNumber(str(draw(st.integers(1, 99999)))),
        given_name=draw(names),
        family_name=draw(names),
        employment=Employment("c1", draw(names), draw(maybe), "Tillsvidare", date(2020, 1, 1)),
        email=draw(maybe),
        phone=draw(maybe),
        city=draw(maybe),
        organisation=tuple((level, draw(names.filter(bool))) for level in levels),
    )


def person(**changes: object) -> Person:
    base = Person(
        person_id=PersonId("p1"),
        employee_number=EmployeeNumber("1001"),
        given_name="Åsa",
        family_name="Öberg",
        employment=Employment("c1", "Acme Sverige AB", "Ekonom", "Tillsvidare", date(2020, 1, 1)),
        email="asa.oberg@example.se",
        organisation=(("Office", "Göteborg"), ("Department", "Ekonomi")),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@given(people())
def test_the_default_rules_say_what_the_python_defaults_do(someone: Person) -> None:
    desired = desire_ad_account(someone, POLICY, TODAY).attributes
    context = EvaluationContext(fields=someone.fields(), now=day_start(TODAY, POLICY.time_zone))
    for attribute, text in DEFAULT_RULES.items():
        value = evaluate(parse(text), context).value
        assert isinstance(value, str | None)
        assert desired[attribute] == truncate(attribute, value), attribute


def test_every_managed_attribute_has_a_default_rule() -> None:
    assert set(DEFAULT_RULES) == set(MANAGED_ATTRIBUTES)


def test_an_override_replaces_an_attribute_and_another_adds_one() -> None:
    rules = parse_rules(
        {
            "mail": 'Join("@", ToLower(NormalizeDiacritics(Join(".", [given_name], '
            '[family_name]))), "example.se")',
            "extensionAttribute1": 'Switch([org.Office], "Other", "Göteborg", "GBG")',
        },
        "employeeNumber",
    )
    policy = dataclasses.replace(POLICY, rules=rules)
    desired = desire_ad_account(person(), policy, TODAY)
    assert desired.attributes["mail"] == "asa.oberg@example.se"
    assert desired.attributes["extensionAttribute1"] == "GBG"
    assert "extensionAttribute1" in policy.managed_attributes
    assert desired.problems == ()


def test_a_rule_failing_for_one_person_leaves_the_attribute_alone_and_says_why() -> None:
    rules = parse_rules(
        {"title": 'FormatDateTime([start_date], "yyyy/MM/dd", "yyyy")'}, "employeeNumber"
    )
    desired = desire_ad_account(person(), dataclasses.replace(POLICY, rules=rules), TODAY)
    assert "title" not in desired.attributes  # left as it is in the directory, never emptied
    (problem,) = desired.problems
    assert problem.startswith("title: ") and "FormatDateTime" in problem


def test_apply_rules_reports_each_failure() -> None:
    rules = parse_rules({"title": 'DateAdd("d", 1, [given_name])'}, "employeeNumber")
    attributes, problems = apply_rules(
        person(), {"title": "Ekonom"}, rules, day_start(TODAY, "Europe/Stockholm")
    )
    assert attributes == {}
    assert [p.attribute for p in problems] == ["title"]


@given(people(), st.sampled_from(["[given_name]", "[org.office]", "[custom.none]", '"0"', '""']))
def test_a_bare_field_or_text_gives_what_the_evaluator_gives(someone: Person, text: str) -> None:
    """apply_rules reads bare fields and texts without the evaluator: the same values."""
    now = day_start(TODAY, "Europe/Stockholm")
    rules = parse_rules({"title": text}, "employeeNumber")
    context = EvaluationContext(fields=someone.fields(), now=now, target_attribute="title")
    evaluated = evaluate(parse(text), context).value
    attributes, problems = apply_rules(someone, {}, rules, now)
    assert attributes == {"title": evaluated or None} and not problems


def test_a_bare_field_over_the_length_limit_is_a_problem_not_a_value() -> None:
    someone = person(custom=(("notes", "x" * (MAX_VALUE_LENGTH + 1)),))
    rules = parse_rules({"info": "[custom.notes]"}, "employeeNumber")
    attributes, problems = apply_rules(someone, {}, rules, day_start(TODAY, "Europe/Stockholm"))
    assert attributes == {} and "characters" in problems[0].message


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sAMAccountName": "[given_name]"}, "sAMAccountName: set by hrsync itself"),
        ({"employeeNumber": "[given_name]"}, "employeeNumber: set by hrsync itself"),
        ({"bad name": "[given_name]"}, "bad name: not an LDAP attribute name"),
        ({"title": "Left([title], 3"}, "title: line 1, column"),
        ({"title": "Lft([title], 3)"}, "Left"),
    ],
)
def test_an_unusable_override_is_refused_with_the_attribute_and_the_reason(
    overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(MappingRuleError, match=message.replace("(", r"\(")):
        parse_rules(overrides, "employeeNumber", AD_RULE_NAMES)


BASE = "DC=example,DC=test"


def placed(text: str, someone: Person) -> str | RuleProblem | None:
    return place(someone, parse_placement(text), BASE, day_start(TODAY, "Europe/Stockholm"))


def test_a_placement_path_becomes_an_escaped_dn_under_the_base() -> None:
    hostile = person(organisation=(("Office", "Göteborg"), ("Department", "R&D, Sales=+#\\")))
    assert placed('Join("/", "Staff", [org.Office], [org.Department])', hostile) == (
        "OU=R&D\\, Sales\\=\\+#\\\\,OU=Göteborg,OU=Staff," + BASE
    )


def test_an_empty_placement_leaves_the_default_and_a_broken_path_is_a_problem() -> None:
    assert placed("[org.Team]", person()) is None
    broken = placed('"Staff//x"', person())
    assert isinstance(broken, RuleProblem) and "path of 1 to" in broken.message


def test_a_failing_placement_keeps_an_account_where_it_is() -> None:
    rule = parse_placement('FormatDateTime([given_name], "yyyy", "yyyy")')
    policy = dataclasses.replace(POLICY, placement=rule, base_dn=BASE)
    desired = desire_ad_account(person(), policy, TODAY)
    assert desired.container == ""  # the planner keeps the account's current OU
    assert desired.problems and desired.problems[0].startswith("placement: ")


def test_a_placement_that_does_not_parse_is_refused() -> None:
    with pytest.raises(MappingRuleError, match=r"placement: line 1, column"):
        parse_placement('Join("/", "Staff"')
