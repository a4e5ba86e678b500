"""People added and edited by hand in the built-in source `manual`, through the import's pipeline.

A manual person is validated by the rules imported persons get (hrsync.connectors.flexhrm.parse:
sanitised text, the same length limits, the same e-mail rule, a period that does not end before
it starts), then written by the import's own person store: one Import record per save, the
personnel change in the change log (joiner, changed fields, leaver once an end date is set), the
ticket opened or commented, triggers fired and the source's on-change connections queued —
exactly what an import of an HR record does. Saves of the source are serialised by a row lock,
which keeps employee numbers unique within it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from hrsync.app import models

# The import's own store and bookkeeping, reused rather than copied: a manual save is then
# recorded exactly as an import records a person (module-private there, shared within imports/).
from hrsync.app.imports.source_import import _finish, _PersonStore, _today
from hrsync.app.jobs.queue import queue_on_change
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.security import audit
from hrsync.app.sources.manual import MANUAL_KEY, is_manual, manual_source
from hrsync.app.triggers import DefaultActions, Dispatcher
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.parse import EMAIL, MAX_EMAIL, MAX_TEXT, parse_day, sanitise
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person, person_from_fields
from hrsync.engine.personnel import ChangeKind

LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "employee_number": "Employee number",
    "email": "E-mail",
    "phone": "Phone",
    "mobile": "Mobile",
    "title": "Title",
    "company": "Company",
    "start_date": "Start date",
    "end_date": "End date",
    "manager": "Manager",
    "office": "Office",
    "department": "Department",
    "employment_type": "Employment type",
}
"""Every field of a manual person, in the order forms show them."""
REQUIRED = ("given_name", "family_name", "employee_number")
DATES = ("start_date", "end_date")
LEVELS = {"office": "Office", "department": "Department"}
"""Form field → the organisation level it fills (Person.organisation)."""
MAX_NUMBER = 64
"""The person store's column for employee numbers."""
MAX_NAME = 512
"""The person store's column for the display name (given and family name)."""
EXTERNAL_TYPES = frozenset(
    kind.casefold()
    for kind in FlexHrmConfig.model_fields["external_employment_types"].get_default(
        call_default_factory=True
    )
)
"""An employment type that makes a person external: the Flex HRM connector's default list."""
PERSON_ID_PREFIX = "manual-"
"""Person ids are `manual-<uuid4>`: stable, and told apart from HR ids at a glance."""

Values = Mapping[str, str | None]
"""A manual person as forms and the API give it: field name (LABELS) → text, None or ""."""


class ManualPersonError(ValueError):
    """The values do not make a valid person: `errors` says why, per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{LABELS.get(k, k)}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotManualError(Exception):
    """The person was imported from an HR system: they are changed there, not by hand."""


@dataclass(frozen=True, slots=True)
class SavedPerson:
    row: models.Person
    change: models.PersonnelChange | None
    """What the change log recorded; None when the values changed nothing."""
    ticket: models.Ticket | None
    """The ticket the change opened or commented."""


def add_manual_person(values: Values, actor: str) -> SavedPerson:
    """A new manual person (a new person id) through the import pipeline; audited."""
    person_id = PersonId(f"{PERSON_ID_PREFIX}{uuid.uuid4()}")
    return _save(person_id, values, actor, before=None)


def edit_manual_person(row: models.Person, changes: Values, actor: str) -> SavedPerson:
    """The person with `changes` (fields not named keep their values; "" or None clears one);
    an end date makes them a leaver on that day. Raises NotManualError for imported people."""
    if not is_manual(row.source):
        raise NotManualError(not_manual_reason(row))
    before = person_from_fields(PersonId(row.person_id), row.fields)
    return _save(before.person_id, {**values_of(before), **changes}, actor, before=row.fields)


def not_manual_reason(row: models.Person) -> str:
    return (
        f"{row.display_name} is imported from the source {row.source.key}: change them in that "
        "HR system; only people of the manual source are edited by hand"
    )


def values_of(person: Person) -> dict[str, str | None]:
    """A stored person's values as a form shows them (the manager by person id)."""
    employment = person.employment
    return {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "employee_number": person.employee_number,
        "email": person.email,
        "phone": person.phone,
        "mobile": person.mobile,
        "title": employment.title,
        "company": employment.company_name or None,
        "start_date": _iso(employment.start_date),
        "end_date": _iso(employment.end_date),
        "manager": person.manager_id,
        "employment_type": employment.employment_type,
        **{field: person.organisation_value(level) for field, level in LEVELS.items()},
    }


def _save(
    person_id: PersonId, values: Values, actor: str, *, before: dict[str, str | None] | None
) -> SavedPerson:
    events = Dispatcher.load(DefaultActions(run_connection))
    with transaction.atomic():
        # The lock serialises saves of manual people, so two cannot take one employee number.
        source = models.Source.objects.select_for_update().get(pk=manual_source().pk)
        person = read_person(person_id, values, source)
        stored = source.people.filter(person_id=person_id).first()
        if stored is not None and stored.content_hash == person.content_hash():
            return SavedPerson(stored, None, None)  # nothing changed: nothing to record
        record = models.Import.objects.create(source=source, is_full=False)
        store = _PersonStore(source, record, _today(source), events, with_tickets=True)
        store.take(person)
        store.flush()
        _finish(record, store.summary, "succeeded")
        row = store.known[person_id]
        change = record.changes.first()
        if change is not None:
            _audit(actor, row, change, before)
    if change is not None:
        queue_on_change(MANUAL_KEY, timezone.now())  # "on-change" connections run at once
    events.flush()  # provisioning asked for by triggers
    ticket = models.Ticket.objects.filter(person=row).order_by("-pk").first() if change else None
    return SavedPerson(row, change, ticket)


def _audit(
    actor: str,
    row: models.Person,
    change: models.PersonnelChange,
    before: dict[str, str | None] | None,
) -> None:
    if before is None:
        action = "person.added"
    elif change.kind == ChangeKind.LEAVER:
        action = "person.ended"
    else:
        action = "person.edited"
    after = {"fields": row.fields, "change": change.kind, "change_id": change.pk}
    audit.record(
        actor,
        action,
        "person",
        row.person_id,
        before={"fields": before} if before is not None else None,
        after=after,
        person_id=row.person_id,
    )


def read_person(person_id: PersonId, values: Values, source: models.Source) -> Person:
    """The person these values describe, checked; ManualPersonError names each bad field."""
    errors: dict[str, str] = {}
    unknown = sorted(set(values) - set(LABELS))
    errors |= dict.fromkeys(unknown, "not a field of a manual person")
    text = {name: _checked(name, values.get(name), errors) for name in LABELS}
    days = {name: _day(name, text[name], errors) for name in DATES}
    start, end = days["start_date"], days["end_date"]
    if start and end and end < start:
        errors["end_date"] = f"the employment ends ({end}) before it starts ({start})"
    if len(f"{text['given_name'] or ''} {text['family_name'] or ''}") > MAX_NAME:
        errors.setdefault("family_name", f"the full name is longer than {MAX_NAME} characters")
    number = text["employee_number"]
    if number and "employee_number" not in errors:
        _check_number_free(number, person_id, source, errors)
    manager = _manager(text["manager"], person_id, errors)
    if errors:
        raise ManualPersonError(errors)
    return _person(person_id, text, start, end, manager)


def _checked(name: str, raw: str | None, errors: dict[str, str]) -> str | None:
    """The value as an import keeps it (sanitised, within the limits), or an error noted."""
    if raw is not None and not isinstance(raw, str):
        errors[name] = "must be text"
        return None
    value = sanitise(raw or "") or None
    if value is None:
        problem = "is required" if name in REQUIRED else None
    else:
        rule = _RULES.get(name)
        problem = rule(value) if rule is not None else None
    if problem:
        errors[name] = problem
    return value


def _within(limit: int) -> Callable[[str], str | None]:
    return lambda value: f"longer than {limit} characters" if len(value) > limit else None


def _email(value: str) -> str | None:
    if len(value) > MAX_EMAIL or not EMAIL.match(value):
        return f"{value[:60]!r} is not a valid e-mail address"
    return None


def _date_rule(value: str) -> str | None:
    try:
        parse_day(value)
    except ValueError:
        return f"{value[:40]!r} is not a date (YYYY-MM-DD)"
    return None


_RULES: dict[str, Callable[[str], str | None]] = (
    {name: _within(MAX_TEXT) for name in LABELS if name not in ("employee_number", "email")}
    | {"employee_number": _within(MAX_NUMBER), "email": _email}
    | dict.fromkeys(DATES, _date_rule)
)


def _day(name: str, value: str | None, errors: dict[str, str]) -> date | None:
    return parse_day(value) if value and name not in errors else None


def _check_number_free(
    number: str, person_id: PersonId, source: models.Source, errors: dict[str, str]
) -> None:
    holder = source.people.filter(employee_number=number).exclude(person_id=person_id).first()
    if holder is not None:
        errors["employee_number"] = f"{number} is already the number of {holder.display_name}"


def _manager(ref: str | None, person_id: PersonId, errors: dict[str, str]) -> PersonId | None:
    """The manager named by person id or employee number; an error when it names nobody, or
    several people (employee numbers are unique only within a source)."""
    if not ref:
        return None
    if models.Person.objects.filter(person_id=ref).exists():
        found = [ref]
    else:
        rows = models.Person.objects.filter(employee_number=ref)
        found = sorted(set(rows.values_list("person_id", flat=True)))
    if not found:
        errors["manager"] = f"nobody has the person id or employee number {ref!r}"
    elif len(found) > 1:
        errors["manager"] = f"several people have the employee number {ref}: give the person id"
    elif found[0] == person_id:
        errors["manager"] = "a person cannot be their own manager"
    else:
        return PersonId(found[0])
    return None


def _person(
    person_id: PersonId,
    text: dict[str, str | None],
    start: date | None,
    end: date | None,
    manager: PersonId | None,
) -> Person:
    kind = text["employment_type"]
    return Person(
        person_id=person_id,
        employee_number=EmployeeNumber(text["employee_number"] or ""),
        given_name=text["given_name"] or "",
        family_name=text["family_name"] or "",
        employment=Employment(
            company_id="",  # no HR system gives the company an id
            company_name=text["company"] or "",
            title=text["title"],
            employment_type=kind,
            start_date=start,
            end_date=end,
            is_external=kind is not None and kind.casefold() in EXTERNAL_TYPES,
        ),
        email=text["email"],
        phone=text["phone"],
        mobile=text["mobile"],
        manager_id=manager,
        organisation=tuple(
            (level, value) for field, level in LEVELS.items() if (value := text[field])
        ),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
