"""Per-attribute mapping rules: an admin's overrides of a target profile's default mapping,
parsed once and applied per person.

An override replaces one attribute's rule (or adds an attribute); an override that fails for a
person leaves that attribute alone for that person — never emptied — and the failure is reported
with the account. Which attribute names a target takes, and which it sets itself, the target's
profile says (hrsync.connectors.<kind>).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from hrsync.domain.account import Attributes
from hrsync.domain.person import Person
from hrsync.mapping.expressions import (
    EvaluationContext,
    EvaluationError,
    Expression,
    ExpressionError,
    Field,
    Text,
    evaluate,
    field_value,
    parse,
)
from hrsync.mapping.expressions.limits import MAX_VALUE_LENGTH

LDAP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")
"""An LDAP attribute name: a letter, then letters, digits and hyphens."""


class MappingRuleError(ValueError):
    """An override cannot be used; the message names the attribute and says why."""


@dataclass(frozen=True, slots=True)
class Rule:
    attribute: str
    text: str
    expression: Expression


@dataclass(frozen=True, slots=True)
class RuleProblem:
    attribute: str
    message: str


@dataclass(frozen=True, slots=True)
class RuleNames:
    """Which attribute names a target's rules may set: `pattern` says what a name looks like
    (`described` in words), `reserved` are those hrsync sets itself."""

    pattern: re.Pattern[str] = LDAP_NAME
    described: str = "an LDAP attribute name (letters, digits and -, from a letter)"
    reserved: frozenset[str] = frozenset()


def parse_rules(
    overrides: Mapping[str, str], person_id_attribute: str, names: RuleNames = RuleNames()
) -> tuple[Rule, ...]:
    """Check and parse an admin's overrides ({attribute: expression text})."""
    rules: list[Rule] = []
    for attribute, text in overrides.items():
        if not names.pattern.match(attribute):
            raise MappingRuleError(f"{attribute}: not {names.described}")
        if attribute in names.reserved or attribute == person_id_attribute:
            raise MappingRuleError(
                f"{attribute}: set by hrsync itself (names, account state, the person id), "
                "so it cannot be mapped"
            )
        rules.append(parse_rule(attribute, text))
    return tuple(rules)


def parse_rule(name: str, text: str) -> Rule:
    """One rule; MappingRuleError naming it, with the line and column of a mistake."""
    try:
        return Rule(name, text, parse(text))
    except ExpressionError as error:
        raise MappingRuleError(f"{name}: {error}") from error


def day_start(today: date, zone: str) -> datetime:
    """What Now() is in a plan made for `today`: its first moment in the connection's zone."""
    return datetime.combine(today, time(), ZoneInfo(zone))


def apply_rules(
    person: Person, attributes: Attributes, rules: tuple[Rule, ...], now: datetime
) -> tuple[Attributes, tuple[RuleProblem, ...]]:
    """The attributes with each rule's value in place; a rule that fails for this person
    leaves its attribute out (unchanged in the target) and becomes a problem."""
    fields = person.fields()
    result = dict(attributes)
    problems: list[RuleProblem] = []
    for rule in rules:
        is_direct, direct = _direct(rule.expression, fields)
        if is_direct:
            result[rule.attribute] = direct or None
            continue
        context = EvaluationContext(fields=fields, now=now, target_attribute=rule.attribute)
        try:
            value = evaluate(rule.expression, context).value
        except EvaluationError as error:
            result.pop(rule.attribute, None)
            problems.append(RuleProblem(rule.attribute, str(error)))
            continue
        result[rule.attribute] = single_value(value)
    return result, tuple(problems)


def _direct(expression: Expression, fields: Mapping[str, str | None]) -> tuple[bool, str | None]:
    """(True, value) for a bare field or text, which most rules are (`[email]`, `"0"`), read
    without the evaluator's bookkeeping: what it would give, in a tenth of the time. (False,
    None) for anything else, and for a field over the length limit, whose error the evaluator
    words."""
    match expression:
        case Text(text):
            return True, text
        case Field(name):
            value = field_value(fields, name)
            return (value is None or len(value) <= MAX_VALUE_LENGTH), value
        case _:
            return False, None


def single_value(value: str | tuple[str, ...] | None) -> str | None:
    """A multi-valued result (Split) becomes its first value: the attributes mapped here, login
    names and placement paths are single-valued. Empty is None."""
    if isinstance(value, tuple):
        return value[0] if value else None
    return value or None
