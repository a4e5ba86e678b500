"""Active Directory names for new accounts: sAMAccountName (≤ 20 chars), UPN, and a CN unique in
its OU; unique against the names in use (hrsync.engine.policy.TakenNames)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from hrsync.connectors.active_directory.dn import normalise_dn
from hrsync.domain.person import Person
from hrsync.engine.policy import TakenNames
from hrsync.mapping.expressions import EvaluationContext, EvaluationError, evaluate
from hrsync.mapping.names import fold_to_ascii, login_part
from hrsync.mapping.rules import Rule, single_value

if TYPE_CHECKING:
    from hrsync.connectors.active_directory.mapping import DirectoryPolicy

SAM_MAX = 20
SAM, UPN = "sAMAccountName", "userPrincipalName"


def allocate_sam(given: str, family: str, employee_number: str, taken: TakenNames) -> str:
    """First letter of the given name + family name, ASCII; a number appended on collision."""
    base = (login_part(given)[:1] + login_part(family).replace(".", "")) or f"u{employee_number}"
    for candidate in _numbered(base, SAM_MAX):
        if candidate.casefold() not in taken.of_attribute(SAM):
            taken.of_attribute(SAM).add(candidate.casefold())
            return candidate
    raise AssertionError("unreachable: numbered candidates are unbounded")


def allocate_upn(given: str, family: str, suffix: str, sam: str, taken: TakenNames) -> str:
    """given.family@suffix, numbered on collision; falls back to the sAMAccountName."""
    base = ".".join(part for part in (login_part(given), login_part(family)) if part) or sam
    for candidate in _numbered(base, 64):
        upn = f"{candidate}@{suffix}"
        if upn.casefold() not in taken.of_attribute(UPN):
            taken.of_attribute(UPN).add(upn.casefold())
            return upn
    raise AssertionError("unreachable: numbered candidates are unbounded")


def allocate_by_rule(
    rule: Rule, person: Person, now: datetime, suffix: str, taken: TakenNames
) -> str | None:
    """The login name the connection's naming rule gives: a sAMAccountName (`suffix` empty) or
    a UPN (the rule gives the part before the @). SelectUniqueValue in the rule asks `taken`,
    which holds the directory's names and those given earlier in this plan; when every
    candidate is taken, or the value is, the first gets a number, so the name is always unique.
    Cleaned to login characters (a-z, 0-9, . _ -) and cut to the attribute's length. None when
    the rule gives nothing usable (the default rule applies)."""
    names, limit = (taken.of_attribute(UPN), 64) if suffix else (taken.of_attribute(SAM), SAM_MAX)

    def full(part: str) -> str:
        return f"{part}@{suffix}" if suffix else part

    def is_taken(attribute: str, value: str) -> bool:
        return full(_login_chars(value)[:limit]).casefold() in names

    fields = person.fields()
    try:
        value = evaluate(rule.expression, EvaluationContext(fields, now, is_taken=is_taken)).value
    except EvaluationError:
        try:  # every candidate taken: number the first one
            value = evaluate(rule.expression, EvaluationContext(fields, now)).value
        except EvaluationError:
            return None
    base = _login_chars(single_value(value) or "")
    if not base:
        return None
    for candidate in _numbered(base, limit):
        if full(candidate).casefold() not in names:
            names.add(full(candidate).casefold())
            return full(candidate)
    raise AssertionError("unreachable: numbered candidates are unbounded")


def login_names(
    person: Person, policy: DirectoryPolicy, now: datetime, taken: TakenNames
) -> tuple[str, str]:
    """sAMAccountName and UPN for a new account, by the connection's naming rules, else by the
    defaults; each unique against `taken`, which then holds them."""
    rule = policy.sam_rule
    sam = (allocate_by_rule(rule, person, now, "", taken) if rule else None) or allocate_sam(
        person.given_name, person.family_name, person.employee_number, taken
    )
    return sam, upn_for(person, policy, now, sam, taken)


def upn_for(
    person: Person, policy: DirectoryPolicy, now: datetime, sam: str, taken: TakenNames
) -> str:
    """The UPN by the connection's rule, else given.family (`sam` when both are empty)."""
    suffix, rule = policy.upn_suffix, policy.upn_rule
    return (allocate_by_rule(rule, person, now, suffix, taken) if rule else None) or allocate_upn(
        person.given_name, person.family_name, suffix, sam, taken
    )


def choose_cn(
    wanted: str,
    employee_number: str,
    parent_dn: str,
    taken: TakenNames,
    *,
    passing_through: str | None = None,
) -> str:
    """The display name, or "<name> (<employee number>)" when another account in the OU has it.

    `passing_through` is the OU an account is renamed in before it moves to `parent_dn`: the
    name must be free there too."""
    ous = [normalise_dn(parent_dn)]
    if passing_through is not None:
        ous.append(normalise_dn(passing_through))

    def is_free(candidate: str) -> bool:
        return all((ou, candidate.casefold()) not in taken.named for ou in ous)

    numbered = (f"{wanted} ({employee_number}-{n})" for n in itertools.count(2))
    chosen = next(
        c for c in itertools.chain(cn_candidates(wanted, employee_number), numbered) if is_free(c)
    )
    taken.named.add((ous[0], chosen.casefold()))
    return chosen


def cn_candidates(wanted: str, employee_number: str) -> tuple[str, str]:
    suffix = f" ({employee_number})"
    return wanted, wanted[: 64 - len(suffix)].rstrip() + suffix


def is_cn_for(cn: str, wanted: str, employee_number: str) -> bool:
    """True when `cn` is one of the names `choose_cn` could have given: then it is kept, since
    the collision that made it may still stand (no rename back and forth)."""
    if cn in cn_candidates(wanted, employee_number):
        return True
    numbered = re.fullmatch(rf"{re.escape(wanted)} \({re.escape(employee_number)}-\d+\)", cn)
    return numbered is not None


def _login_chars(text: str) -> str:
    """Like names.login_part, and keeping the underscores an admin's rule may put in."""
    return _NOT_RULE_LOGIN.sub("", fold_to_ascii(text).lower().replace(" ", "")).strip(".-_")


_NOT_RULE_LOGIN = re.compile(r"[^a-z0-9._-]")


def _numbered(base: str, limit: int) -> Iterable[str]:
    yield base[:limit]
    number = 2
    while True:
        tail = str(number)
        yield base[: limit - len(tail)] + tail
        number += 1
