"""Pure translation of AFAS GetConnector rows into validated, sanitised persons.

Nothing here does IO or raises on bad data: a user row that cannot be trusted becomes an
InvalidRecord with a reason an admin can act on. Text is cleaned as for Flex HRM (the shared
`sanitise`, `parse_day` and address check of hrsync.connectors.flexhrm.parse).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from hrsync.connectors.afas.config import AfasConfig, AfasFields, Convention
from hrsync.connectors.afas.names import NameParts, used_family_name
from hrsync.connectors.flexhrm.parse import EMAIL, MAX_EMAIL, MAX_TEXT, parse_day, sanitise
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, InvalidRecord, Person

Row = Mapping[str, Any]
PrimaryRule = Literal["latest_start", "earliest_start"]
MAX_EXCERPT = 300


class RefusedError(ValueError):
    """Raised inside this module when a row fails validation; never escapes it."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One organisational unit of the hierarchy."""

    id: str
    name: str
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One employment row (dienstverband), read."""

    id: str
    start: date | None
    end: date | None
    job_code: str | None = None
    title: str | None = None
    unit: str | None = None
    manager: str | None = None

    def is_active_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Context:
    """What every row of one import is read with: the settings and the unit hierarchy."""

    fields: AfasFields
    name_usage: Mapping[str, Convention]
    name_separator: str
    primary_rule: PrimaryRule
    level_names: tuple[str, ...]
    company_id: str
    company_name: str
    units: Mapping[str, Unit] = field(default_factory=dict)

    @classmethod
    def of(cls, config: AfasConfig, units: Mapping[str, Unit]) -> Context:
        return cls(
            fields=config.fields,
            name_usage=config.name_usage,
            name_separator=config.name_separator,
            primary_rule=config.primary_employment,
            level_names=tuple(config.organisation_levels),
            company_id=config.environment or "afas",
            company_name=config.employer,
            units=units,
        )


# Values.


def plain(row: Row, key: str) -> str | None:
    """A sanitised scalar; None for an unmapped field, absent, blank or structured value."""
    value = row.get(key) if key else None
    if value is None or isinstance(value, dict | list):
        return None
    return sanitise(str(value)) or None


def text(row: Row, key: str, limit: int = MAX_TEXT) -> str | None:
    value = row.get(key) if key else None
    if isinstance(value, dict | list):
        raise RefusedError(f"{key} is not text")
    found = plain(row, key)
    if found is not None and len(found) > limit:
        raise RefusedError(f"{key} longer than {limit} characters")
    return found


def day(row: Row, key: str) -> date | None:
    """A date field (`2024-03-01T00:00:00Z`, as AFAS sends dates) as the day written."""
    found = plain(row, key)
    if found is None:
        return None
    try:
        return parse_day(found)
    except ValueError:
        raise RefusedError(f"{key} {found[:40]!r} is not a date") from None


def email(row: Row, key: str) -> str | None:
    found = text(row, key, MAX_EMAIL + 1)
    if found is not None and (len(found) > MAX_EMAIL or not EMAIL.match(found)):
        raise RefusedError(f"email {found!r} is not a valid address")
    return found


# Units and organisation levels.


def read_units(rows: Sequence[Row], fields: AfasFields) -> dict[str, Unit]:
    """Units by id; rows without an id are skipped, a missing name falls back to the id."""
    units: dict[str, Unit] = {}
    for row in rows:
        unit_id = plain(row, fields.unit_id)
        if unit_id:
            name = plain(row, fields.unit_name) or unit_id
            units[unit_id] = Unit(unit_id, name, plain(row, fields.unit_parent))
    return units


def unit_path(units: Mapping[str, Unit], unit_id: str | None) -> list[Unit]:
    """The unit and its ancestors, top first; a cycle or a missing parent ends the climb."""
    path: list[Unit] = []
    seen: set[str] = set()
    current = units.get(unit_id or "")
    while current is not None and current.id not in seen:
        path.append(current)
        seen.add(current.id)
        current = units.get(current.parent or "")
    return path[::-1]


def level_name(names: Sequence[str], depth: int) -> str:
    return names[depth] if depth < len(names) else f"Level {depth + 1}"


def organisation(
    path: Sequence[Unit], names: Sequence[str]
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(level, unit name) and (level, unit id) pairs, from the top of the hierarchy down."""
    named = tuple((level_name(names, i), unit.name) for i, unit in enumerate(path))
    ids = tuple((level_name(names, i), unit.id) for i, unit in enumerate(path))
    return named, ids


# Employments.


def read_job(row: Row, fields: AfasFields) -> Job:
    job_id = plain(row, fields.employment_id) or "?"
    try:
        start, end = day(row, fields.start), day(row, fields.end)
    except RefusedError as refusal:
        raise RefusedError(f"employment {job_id}: {refusal}") from None
    if start and end and end < start:
        raise RefusedError(f"employment {job_id} ends ({end}) before it starts ({start})")
    return Job(
        id=job_id,
        start=start,
        end=end,
        job_code=plain(row, fields.job_code),
        title=plain(row, fields.job_title),
        unit=plain(row, fields.unit),
        manager=plain(row, fields.manager),
    )


def primary_job(jobs: Sequence[Job], today: date, rule: PrimaryRule) -> Job | None:
    """The employment that describes the person now, by the declared rule.

    latest_start (the default): of the active ones the latest to start (a second contract
    beside the first is the newer role); earliest_start: the earliest (the main contract).
    With none active: the next to start (a pre-hire), else the one that ended last (a leaver).
    """
    active = [job for job in jobs if job.is_active_on(today)]
    if active:
        pick = max if rule == "latest_start" else min
        return pick(active, key=lambda job: (job.start or date.min, job.id))
    upcoming = [job for job in jobs if job.start and job.start > today]
    if upcoming:
        return min(upcoming, key=lambda job: (job.start or date.max, job.id))
    return max(jobs, key=lambda job: (job.end or date.max, job.id), default=None)


# Persons.


def parse_person(
    user: Row, job_rows: Sequence[Row], context: Context, today: date
) -> Person | InvalidRecord:
    """A person from a user row and the employment rows of the same Medewerker, or the reason
    it was set aside."""
    try:
        return _build_person(user, job_rows, context, today)
    except RefusedError as refusal:
        return InvalidRecord(source_ref(user, context.fields), str(refusal), excerpt(user))
    except Exception as exc:  # a row must never stop an import, whatever its shape
        reason = f"unreadable row ({type(exc).__name__}: {exc})"
        return InvalidRecord(source_ref(user, context.fields), reason, excerpt(user))


def _build_person(user: Row, job_rows: Sequence[Row], context: Context, today: date) -> Person:
    fields = context.fields
    number = plain(user, fields.employee)
    if not number:
        raise RefusedError(f"missing {fields.employee}")
    given = text(user, fields.nickname) or text(user, fields.first_name)
    if not given:
        raise RefusedError(f"missing {fields.nickname or fields.first_name}")
    used = used_family_name(
        _name_parts(user, fields), plain(user, fields.name_usage), context.name_usage,
        context.name_separator,
    )  # fmt: skip
    if not used.family_name:
        raise RefusedError(f"missing {fields.family_name}")
    job = primary_job([read_job(row, fields) for row in job_rows], today, context.primary_rule)
    if job is None:
        raise RefusedError("no employment")
    warnings = [used.warning] if used.warning else []

    def optional(key: str, read: Callable[[Row, str], str | None]) -> str | None:
        try:
            return read(user, key)
        except RefusedError as refusal:
            warnings.append(f"{key} left out: {refusal}")
            return None

    path = unit_path(context.units, job.unit)
    named, ids = organisation(path, context.level_names)
    return Person(
        person_id=PersonId(number),
        employee_number=EmployeeNumber(number),
        given_name=given,
        family_name=used.family_name,
        employment=_employment(job, context),
        email=optional(fields.email, email),
        mobile=optional(fields.mobile, text),
        manager_id=PersonId(job.manager) if job.manager and job.manager != number else None,
        organisation=named,
        organisation_ids=ids,
        custom=_custom(user, job, used.convention, fields, path[-1].name if path else None),
        warnings=tuple(warnings),
    )


def _name_parts(user: Row, fields: AfasFields) -> NameParts:
    return NameParts(
        prefix=text(user, fields.prefix) or "",
        family_name=text(user, fields.family_name) or "",
        partner_prefix=text(user, fields.partner_prefix) or "",
        partner_name=text(user, fields.partner_name) or "",
    )


def _employment(job: Job, context: Context) -> Employment:
    return Employment(
        company_id=context.company_id,
        company_name=context.company_name,
        title=job.title,
        start_date=job.start,
        end_date=job.end,
    )


def _custom(
    user: Row, job: Job, convention: str, fields: AfasFields, unit_name: str | None
) -> tuple[tuple[str, str], ...]:
    """Values a Person has no slot for, under stable names (mapping rules read `custom.*`)."""
    extra = {
        "person_number": plain(user, fields.person_number),
        "first_name": plain(user, fields.first_name),
        "family_name_prefix": plain(user, fields.prefix),
        "birth_name": plain(user, fields.birth_name),
        "name_convention": convention,
        "employment_id": job.id if job.id != "?" else None,
        "job_code": job.job_code,
        "unit_code": job.unit,
        "unit_name": unit_name,
    }
    return tuple((name, value) for name, value in extra.items() if value)


def source_ref(user: Row, fields: AfasFields) -> str:
    return f"employee {plain(user, fields.employee) or '?'}"


def excerpt(row: Row) -> str:
    """A short JSON view of the row, to help an admin find it in AFAS."""
    shown = json.dumps(dict(row), ensure_ascii=False, default=str)
    return shown if len(shown) <= MAX_EXCERPT else shown[: MAX_EXCERPT - 1] + "…"
