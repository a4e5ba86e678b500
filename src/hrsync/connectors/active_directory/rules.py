"""The Active Directory profile's mapping rules: its defaults in the mapping language, the
attributes hrsync sets itself, and the OU placement rule.

The default attributes are computed in plain Python (`desire_ad_account`): they are the hot path
of every plan. `DEFAULT_RULES` says the same in the mapping language, so `hrsync mapping test`
can show how each value came about; a unit test evaluates both for generated people and fails
when they drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from hrsync.connectors.active_directory.dn import escape_dn_value
from hrsync.domain.person import Person
from hrsync.mapping.expressions import EvaluationContext, EvaluationError, evaluate
from hrsync.mapping.rules import Rule, RuleNames, RuleProblem, parse_rule, single_value

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

AD_RULE_NAMES = RuleNames(reserved=ENGINE_ATTRIBUTES)


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
