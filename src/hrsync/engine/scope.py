"""A connection's scope: which persons it provisions, and what becomes of the account of one who
is not (or no longer) in it. Conditions are hrsync.engine.conditions, on the person's fields."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.engine.conditions import (
    MATCHES,
    Condition,
    condition_holds,
    condition_problems,
    describe_condition,
    hint,
)


class OutOfScope(StrEnum):
    """What happens to the account of a person outside the scope."""

    DISABLE = "disable"
    DELETE = "delete"
    LEAVE = "leave"


_SAMPLE = Person(PersonId(""), EmployeeNumber(""), "", "", Employment("", ""))
DERIVED_FIELDS: Final = frozenset({"company", "organisation_path"})
PERSON_FIELDS: Final = frozenset(_SAMPLE.fields()) | DERIVED_FIELDS
"""Fields a scope condition may name, besides `org.<level>` and `custom.<name>`."""
FIELD_PREFIXES: Final = ("org.", "custom.")


@dataclass(frozen=True, slots=True)
class ScopePolicy:
    """Everyone is in scope by default."""

    conditions: tuple[Condition, ...] = ()
    match: str = "all"
    companies: tuple[str, ...] = ()
    """The person's company name or id is one of these (none: any company)."""
    when_out_of_scope: OutOfScope = OutOfScope.DISABLE


def person_subject(person: Person) -> dict[str, object]:
    """The fields conditions see: the person's own (`Person.fields()`), `company` (its name) and
    `organisation_path` (the levels' values joined by "/", e.g. "Stockholm/Finance/Payroll")."""
    subject: dict[str, object] = dict(person.fields())
    subject["company"] = person.employment.company_name
    subject["organisation_path"] = "/".join(value for _, value in person.organisation)
    return subject


def why_out_of_scope(person: Person, scope: ScopePolicy) -> str | None:
    """None when the person is in scope, else the condition that left them out, as written."""
    if scope.companies and not _is_in_companies(person.employment, scope.companies):
        return describe_condition(Condition("company", "in", scope.companies))
    if not scope.conditions:
        return None
    subject = person_subject(person)
    failing = [c for c in scope.conditions if not condition_holds(c, subject)]
    if scope.match == "any":
        if len(failing) < len(scope.conditions):
            return None
        return "none of: " + "; ".join(describe_condition(c) for c in failing)
    return describe_condition(failing[0]) if failing else None


def _is_in_companies(employment: Employment, companies: Iterable[str]) -> bool:
    wanted = {company.strip().casefold() for company in companies}
    return bool({employment.company_name.casefold(), employment.company_id.casefold()} & wanted)


def scope_problems(match: str, conditions: Iterable[Condition]) -> list[str]:
    """Every problem with a scope's conditions, in words an admin understands."""
    problems = [] if match in MATCHES else [f"match is 'all' or 'any', not '{match}'"]
    for number, condition in enumerate(conditions, 1):
        found = _field_problems(condition.field) + condition_problems(condition)
        problems += [f"condition {number}: {problem}" for problem in found]
    return problems


def _field_problems(name: str) -> list[str]:
    if name in PERSON_FIELDS:
        return []
    prefix = next((p for p in FIELD_PREFIXES if name.startswith(p)), None)
    if prefix is not None and name[len(prefix) :].strip():
        return []
    known = sorted(PERSON_FIELDS | {"org.<level>", "custom.<name>"})
    return [f"a person has no field '{name}'{hint(name, known)}"]
