"""Per-attribute mapping rules for Active Directory: the defaults, written in the mapping
language, and an admin's overrides of them.

The default attributes are computed in plain Python (`desire_ad_account`): they are the hot path
of every plan. `DEFAULT_RULES` says the same in the mapping language, so `hrsync mapping test`
can show how each value came about; a unit test evaluates both for generated people and fails
when they drift apart. An override replaces one attribute's rule (or adds an attribute); an
override that fails for a person leaves that attribute alone for that person — never emptied —
and the failure is reported with the account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from types import MappingProxyType
from zoneinfo import ZoneInfo

from hrsync.domain.account import Attributes
from hrsync.domain.person import Person
from hrsync.mapping.expressions import (
    EvaluationContext,
    EvaluationError,
    Expression,
    ExpressionError,
    evaluate,
    parse,
)
from hrsync.mapping.names import escape_dn_value

DEFAULT_RULES: Mapping[str, str] = MappingProxyType(
    {
        "givenName": "[given_name]",
        "sn": "[family_name]",
        "displayName": 'Trim(Join(" ", [given_name], [family_name]))',
        "mail": "[email]",
        "employeeID": "[employee_number]",
        "title": "[title]",
        "department": "[org.Department]",
        "company": "[company_name]",
        "telephoneNumber": "[phone]",
        "mobile": "[mobile]",
        "streetAddress": "[street]",
        "postalCode": "[postal_code]",
        "l": "[city]",
        "physicalDeliveryOfficeName": "[org.Office]",
    }
)
"""What `desire_ad_account` computes by default, attribute by attribute, in the language."""

ENGINE_ATTRIBUTES = frozenset(
    {
        "cn",
        "name",
        "distinguishedName",
        "objectClass",
        "objectGUID",
        "sAMAccountName",
        "userPrincipalName",
        "userAccountControl",
        "unicodePwd",
        "pwdLastSet",
        "manager",
        "memberOf",
        "member",
    }
)
"""Attributes hrsync itself sets (names, state, references): not mappable."""

_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")


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


def parse_rules(overrides: Mapping[str, str], person_id_attribute: str) -> tuple[Rule, ...]:
    """Check and parse an admin's overrides ({attribute: expression text})."""
    rules: list[Rule] = []
    for attribute, text in overrides.items():
        if not _ATTRIBUTE_NAME.match(attribute):
            raise MappingRuleError(
                f"{attribute}: not an LDAP attribute name (letters, digits and -, from a letter)"
            )
        if attribute in ENGINE_ATTRIBUTES or attribute == person_id_attribute:
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


PLACEMENT = "placement"
"""The pseudo-attribute of the OU placement rule in messages."""
MAX_OU_DEPTH = 10


def parse_placement(text: str) -> Rule:
    """The OU placement rule: an expression giving a path of OU names under the base DN,
    outermost first and separated by "/" — "People/Göteborg/Ekonomi" places the account in
    OU=Ekonomi,OU=Göteborg,OU=People,<base DN>. hrsync builds and escapes the DN itself, so HR
    values can never change its structure."""
    return parse_rule(PLACEMENT, text)


def place(person: Person, rule: Rule, base_dn: str, now: datetime) -> str | RuleProblem | None:
    """The parent DN the rule gives this person; None when it gives nothing (the default OU
    applies); a RuleProblem when it fails or gives an unusable path."""
    context = EvaluationContext(fields=person.fields(), now=now, target_attribute=PLACEMENT)
    try:
        value = single_value(evaluate(rule.expression, context).value)
    except EvaluationError as error:
        return RuleProblem(PLACEMENT, str(error))
    if value is None:
        return None
    names = [name.strip() for name in value.split("/")]
    if any(not name for name in names) or len(names) > MAX_OU_DEPTH:
        return RuleProblem(
            PLACEMENT,
            f"{value!r} is not a path of 1 to {MAX_OU_DEPTH} OU names separated by /",
        )
    return ",".join([*(f"OU={escape_dn_value(name)}" for name in reversed(names)), base_dn])


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
        context = EvaluationContext(fields=fields, now=now, target_attribute=rule.attribute)
        try:
            value = evaluate(rule.expression, context).value
        except EvaluationError as error:
            result.pop(rule.attribute, None)
            problems.append(RuleProblem(rule.attribute, str(error)))
            continue
        result[rule.attribute] = single_value(value)
    return result, tuple(problems)


def single_value(value: str | tuple[str, ...] | None) -> str | None:
    """A multi-valued result (Split) becomes its first value: AD user attributes mapped here,
    login names and placement paths are single-valued. Empty is None."""
    if isinstance(value, tuple):
        return value[0] if value else None
    return value or None
