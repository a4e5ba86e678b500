"""`hrsync mapping test`: what a connection's mapping makes of one person, attribute by attribute,
with the rule each value came from and the HR fields it read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hrsync.app import models, wiring
from hrsync.app.connection_settings.policies import directory_policy
from hrsync.domain.ids import PersonId
from hrsync.domain.person import Person, person_from_fields
from hrsync.engine.naming import TakenNames, login_names
from hrsync.mapping.active_directory import DirectoryPolicy, desire_ad_account
from hrsync.mapping.ad_rules import DEFAULT_RULES, Rule, day_start, parse_rule
from hrsync.mapping.expressions import EvaluationContext, EvaluationError, evaluate
from hrsync.mapping.lineage import SAM, UPN, derivations


@dataclass(frozen=True, slots=True)
class AttributeExplanation:
    attribute: str
    value: str | None
    rule: str
    source: str
    """"default", "override", "naming" (the connection's login-name rule) or "hrsync" (hrsync's
    own default login names, described in words)."""
    fields_read: tuple[str, ...]
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MappingExplanation:
    person_id: str
    employee_number: str
    name: str
    cn: str
    parent_dn: str
    attributes: tuple[AttributeExplanation, ...]
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "person_id": self.person_id,
            "employee_number": self.employee_number,
            "name": self.name,
            "cn": self.cn,
            "parent_dn": self.parent_dn,
            "attributes": [vars_of(a) for a in self.attributes],
            "problems": list(self.problems),
        }


def vars_of(item: AttributeExplanation) -> dict[str, object]:
    return {
        "attribute": item.attribute,
        "value": item.value,
        "rule": item.rule,
        "source": item.source,
        "fields_read": list(item.fields_read),
        "steps": list(item.steps),
    }


def explain_mapping(
    connection_key: str, employee_number: str, settings: Mapping[str, Any] | None = None
) -> list[MappingExplanation]:
    """One explanation per person with this employee number in the connection's source
    (numbers repeat across companies); empty when there is none. `settings`, checked already,
    stand in for the stored ones: the console tests the rules as typed, before they are saved."""
    connection = models.Connection.objects.select_related("source").get(key=connection_key)
    if settings is not None:
        connection.settings = dict(settings)  # this copy is read, never saved
    policy = directory_policy(connection, wiring.target_config(connection))
    today = datetime.now(ZoneInfo(connection.time_zone)).date()
    rows = models.Person.objects.filter(
        source=connection.source, employee_number=employee_number
    ).order_by("person_id")
    people = [person_from_fields(PersonId(row.person_id), row.fields) for row in rows]
    overrides = {rule.attribute: rule for rule in policy.rules}
    explanations = []
    for person in people:
        desired = desire_ad_account(person, policy, today)
        context = EvaluationContext(fields=person.fields(), now=day_start(today, policy.time_zone))
        explained = []
        for attribute in policy.managed_attributes:
            if attribute == policy.person_id_attribute:
                continue
            rule = overrides.get(attribute)
            explained.append(
                _explain(
                    rule or parse_rule(attribute, DEFAULT_RULES[attribute]),
                    desired.attributes.get(attribute),
                    rule is not None,
                    context,
                )
            )
        explained += _login_rows(person, policy, context.now)
        explanations.append(
            MappingExplanation(
                person.person_id,
                person.employee_number,
                _name(person),
                desired.cn,
                desired.parent_dn,
                tuple(explained),
                desired.problems,
            )
        )
    return explanations


def _explain(
    rule: Rule, value: str | None, is_override: bool, context: EvaluationContext
) -> AttributeExplanation:
    try:
        evaluated = evaluate(rule.expression, context)
        fields, steps = tuple(sorted(evaluated.fields_read)), evaluated.steps
    except EvaluationError as error:
        fields, steps = (), (f"failed: {error}",)
    source = "override" if is_override else "default"
    return AttributeExplanation(rule.attribute, value, rule.text, source, fields, steps)


def _login_rows(
    person: Person, policy: DirectoryPolicy, now: datetime
) -> list[AttributeExplanation]:
    """sAMAccountName and UPN as the naming rules give them before they are made unique: in a
    run, a name already taken in the directory, or earlier in the run, gets a number."""
    names = dict(zip((SAM, UPN), login_names(person, policy, now, TakenNames()), strict=True))
    rules = derivations(policy)
    return [
        AttributeExplanation(
            name,
            names[name],
            rules[name].rule,
            rules[name].source,
            rules[name].fields,
            ("set when the account is created; numbered in the run if the name is taken",),
        )
        for name in (SAM, UPN)
    ]


def _name(person: Person) -> str:
    return person.display_name or person.employee_number
