"""Lineage for an AD connection's planned values: the rule behind each attribute and the HR
fields it reads, with the person's values.

The fields are found in the rule's text (`fields_of`), not by evaluating it again, so lineage
costs one dictionary of values per planned change and nothing per unchanged person. The rules
hrsync applies in plain Python (names, CN, the users OU) are described in words.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from hrsync.connectors.active_directory.rules import DEFAULT_RULES, PLACEMENT
from hrsync.domain.lineage import Derivation
from hrsync.engine.lineage import MANAGER, PARENT, of_rule, words
from hrsync.mapping.expressions import fields_of, parse

if TYPE_CHECKING:
    from hrsync.connectors.active_directory.mapping import DirectoryPolicy

SAM, UPN, CN = "sAMAccountName", "userPrincipalName", "cn"


_CN = words(
    "the display name ([given_name] [family_name]), or the employee number when both are empty; "
    "the employee number is appended when another account in the OU has the name",
    "given_name",
    "family_name",
    "employee_number",
)
_SAM = words(
    "the first letter of [given_name] and [family_name], lower case without diacritics, at most "
    "20 characters, numbered when taken",
    "given_name",
    "family_name",
)
_MANAGER = words("the account of the person named by [manager_id]", "manager_id")


@cache
def _default(attribute: str) -> Derivation:
    text = DEFAULT_RULES[attribute]
    return Derivation(text, "default", fields_of(parse(text)))


def derivations(policy: DirectoryPolicy) -> dict[str, Derivation]:
    """How each attribute of the connection's accounts is computed."""
    found = {name: _default(name) for name in DEFAULT_RULES}
    found |= {rule.attribute: of_rule(rule, "override") for rule in policy.rules}
    found[policy.person_id_attribute] = words("the person's id in the HR system")
    found[CN] = _CN
    found[SAM] = of_rule(policy.sam_rule, "naming") if policy.sam_rule else _SAM
    found[UPN] = (
        of_rule(policy.upn_rule, "naming")
        if policy.upn_rule
        else words(
            f"[given_name].[family_name]@{policy.upn_suffix}, lower case without diacritics, "
            "numbered when taken",
            "given_name",
            "family_name",
        )
    )
    found[MANAGER] = _MANAGER
    found[PARENT] = (
        of_rule(policy.placement, PLACEMENT)
        if policy.placement
        else words(f"the connection's users OU ({policy.users_ou})")
    )
    return found
