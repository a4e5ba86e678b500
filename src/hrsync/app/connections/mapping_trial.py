"""`hrsync mapping test`: what a connection's mapping makes of one person, attribute by attribute,
with the rule each value came from and the HR fields it read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hrsync.app import models
from hrsync.app.connection_settings import wiring
from hrsync.domain.account import DesiredAccount
from hrsync.domain.ids import PersonId
from hrsync.domain.lineage import Derivations
from hrsync.domain.person import Person, person_from_fields
from hrsync.engine.policy import AccountPolicy, NameUnavailableError, TakenNames
from hrsync.mapping.expressions import EvaluationContext, EvaluationError, evaluate
from hrsync.mapping.rules import MappingRuleError, Rule, day_start, parse_rule


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
    account_name: str
    """The naming attribute's value (AD: the CN), for targets that name accounts by it."""
    container: str
    """Where the account goes (AD: the placement rule's OU); empty without hierarchy."""
    attributes: tuple[AttributeExplanation, ...]
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "person_id": self.person_id,
            "employee_number": self.employee_number,
            "name": self.name,
            "account_name": self.account_name,
            "container": self.container,
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
    binding = wiring.bind(connection)
    binding.target.close()  # only the policy is needed: nothing is read from the target
    policy = binding.policy
    today = datetime.now(ZoneInfo(connection.time_zone)).date()
    rows = models.Person.objects.filter(
        source=connection.source, employee_number=employee_number
    ).order_by("person_id")
    people = [person_from_fields(PersonId(row.person_id), row.fields) for row in rows]
    derivations = policy.derivations()
    explanations = []
    for person in people:
        desired = policy.desire(person, today)
        context = EvaluationContext(fields=person.fields(), now=day_start(today, policy.time_zone))
        explained = [
            _explain(attribute, derivations, desired.attributes.get(attribute), context)
            for attribute in desired.attributes
            if attribute != policy.owner_attribute
        ]
        explained += _name_rows(person, desired, policy, derivations, today)
        explanations.append(
            MappingExplanation(
                person.person_id,
                person.employee_number,
                _name(person),
                desired.name,
                desired.container,
                tuple(explained),
                desired.problems,
            )
        )
    return explanations


def _explain(
    attribute: str, derivations: Derivations, value: str | None, context: EvaluationContext
) -> AttributeExplanation:
    """One attribute with its rule, evaluated again for its steps (a rule in the mapping
    language); rules hrsync applies in plain Python are shown in words."""
    derivation = derivations.get(attribute)
    if derivation is None:
        return AttributeExplanation(attribute, value, "", "hrsync", (), ())
    try:
        rule: Rule | None = parse_rule(attribute, derivation.rule)
    except MappingRuleError:
        rule = None  # described in words, not written in the language
    if rule is None or derivation.source == "hrsync":
        source, fields = derivation.source, derivation.fields
        return AttributeExplanation(attribute, value, derivation.rule, source, fields, ())
    try:
        evaluated = evaluate(rule.expression, context)
        fields, steps = tuple(sorted(evaluated.fields_read)), evaluated.steps
    except EvaluationError as error:
        fields, steps = (), (f"failed: {error}",)
    return AttributeExplanation(attribute, value, rule.text, derivation.source, fields, steps)


def _name_rows(
    person: Person,
    desired: DesiredAccount,
    policy: AccountPolicy,
    derivations: Derivations,
    today: date,
) -> list[AttributeExplanation]:
    """The unique names a new account gets (AD: sAMAccountName and UPN) as the naming rules
    give them before they are made unique: in a run, a name already taken in the target, or
    earlier in the run, gets a number."""
    container = desired.container or policy.home
    try:
        new = policy.new_account(person, desired, container, TakenNames(), today)
    except NameUnavailableError as error:
        return [AttributeExplanation(error.attribute, None, str(error), "hrsync", (), ())]
    rows = []
    for name, value in new.attributes.items():
        derivation = derivations.get(name)
        rule, source, fields = (
            (derivation.rule, derivation.source, derivation.fields) if derivation else ("", "", ())
        )
        rows.append(
            AttributeExplanation(
                name,
                value,
                rule,
                source,
                fields,
                ("set when the account is created; numbered in the run if the name is taken",),
            )
        )
    return rows


def _name(person: Person) -> str:
    return person.display_name or person.employee_number
