"""Pure translation of Flex HRM JSON (either casing) into validated, sanitised persons.

Nothing here does IO or raises on bad data: a record that cannot be trusted becomes an
InvalidRecord with a reason an admin can act on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, InvalidRecord, Person

Record = Mapping[str, Any]

MAX_TEXT = 256
"""Longest accepted text value; longer ones are refused rather than cut, so nothing is lost."""

MAX_EMAIL = 254
"""RFC 5321 §4.5.3.1: the longest usable address."""

EMAIL = re.compile(r"^[^@\s]{1,64}@(?:[^@\s.]+\.)+[^@\s.]+$")
"""Deliberately loose: one @, no spaces, a dotted domain. Deliverability is the target's job."""

GENDERS = {"1": "male", "2": "female"}
"""Flex's gender enum (0 unknown, 1 man, 2 woman; the legacy API may send "_" for unknown)."""

EXCERPT_KEYS = ("id", "firstName", "lastName", "emailWork", "employment")
MAX_EXCERPT = 300


class RefusedError(ValueError):
    """Raised inside this module when a record fails validation; never escapes it."""


def normalise_keys(value: Any) -> Any:
    """The same JSON with every key in camelCase (PascalCase `EmailWork` → `emailWork`)."""
    if isinstance(value, dict):
        return {camel_case(str(key)): normalise_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise_keys(item) for item in value]
    return value


def camel_case(key: str) -> str:
    return key.lower() if key.isupper() else key[:1].lower() + key[1:]  # "ID" → "id"


def record_id(record: Record) -> str | None:
    """The `id` of a record in either casing, as text (the last spelling wins, as in
    `normalise_keys`). Only the top-level keys are read: `parse_person` normalises the whole
    record anyway, and doing it here too made each employee's keys be normalised twice."""
    ids = [value for key, value in record.items() if camel_case(str(key)) == "id"]
    return _plain(ids[-1]) if ids else None


# Lookups: the per-company tables that turn ids into names.


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    number: str
    name: str

    def matches(self, wanted: str) -> bool:
        """True when `wanted` is this company's id (any case) or its company number."""
        return wanted.casefold() in (self.id.casefold(), self.number)


@dataclass(frozen=True, slots=True)
class Coded:
    """A lookup value: an employment type or title, known by name and by code."""

    name: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class OrgLevel:
    """One account distribution (a dimension such as department) and its accounts' names."""

    distribution_id: str
    name: str
    accounts: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Lookups:
    company: Company
    titles: Mapping[str, Coded]
    types: Mapping[str, Coded]
    levels: tuple[OrgLevel, ...] = ()
    external_types: frozenset[str] = frozenset()
    """Employment type names or codes, casefolded, that mark a person as external."""


def read_company(raw: Record) -> Company | None:
    """A company from its JSON; None when it has no id."""
    record = normalise_keys(dict(raw))
    company_id = _plain(record.get("id"))
    if not company_id:
        return None
    number = _plain(record.get("companyNumber")) or ""
    return Company(company_id, number, _plain(record.get("name")) or number or company_id)


def read_coded(records: Iterable[Record]) -> dict[str, Coded]:
    """Titles, types or accounts by id, named by name (else code); skips entries with neither."""
    table: dict[str, Coded] = {}
    for record in map(normalise_keys, map(dict, records)):
        entry_id, code = _plain(record.get("id")), _plain(record.get("code"))
        name = _plain(record.get("name")) or code
        if entry_id and name:
            table[entry_id] = Coded(name, code)
    return table


def select_distributions(raw: Iterable[Record], wanted: Sequence[str]) -> list[tuple[str, str]]:
    """(id, name) of the distributions to use as organisation levels, in level order.

    With `wanted` names, exactly those (matched case-insensitively) in that order; otherwise every
    distribution sorted by its `level` (or `order`), keeping the API's order among equals.
    """
    records = [normalise_keys(dict(record)) for record in raw]
    named = [(r, _plain(r.get("id")), _plain(r.get("name"))) for r in records]
    usable = [(r, i, n) for r, i, n in named if i and n]
    if wanted:
        by_name = {n.casefold(): (i, n) for _, i, n in usable}
        return [by_name[w.casefold()] for w in wanted if w.casefold() in by_name]
    ranked = sorted(
        usable, key=lambda entry: (_rank(entry[0].get("level")), _rank(entry[0].get("order")))
    )
    return [(i, n) for _, i, n in ranked]


def read_level(distribution: tuple[str, str], accounts: Iterable[Record]) -> OrgLevel:
    return OrgLevel(
        distribution[0], distribution[1], {k: v.name for k, v in read_coded(accounts).items()}
    )


def _rank(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


# Persons.


@dataclass(frozen=True, slots=True)
class Period:
    id: str
    start: date | None
    end: date | None
    title_id: str | None
    type_id: str | None
    accounts: Mapping[str, str]
    """Account id by account distribution id."""

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


def parse_person(
    employee: Record, periods: Sequence[Record], lookups: Lookups, today: date
) -> Person | InvalidRecord:
    """A person from an employee and its employment periods, or the reason it was set aside."""
    record: dict[str, Any] = normalise_keys(dict(employee))
    try:
        return _build_person(record, periods, lookups, today)
    except RefusedError as refusal:
        return InvalidRecord(source_ref(record, lookups.company), str(refusal), excerpt(record))
    except Exception as exc:  # a record must never stop an import, whatever its shape
        reason = f"unreadable record ({type(exc).__name__}: {exc})"
        return InvalidRecord(source_ref(record, lookups.company), reason, excerpt(record))


def _build_person(
    employee: dict[str, Any], raw_periods: Sequence[Record], lookups: Lookups, today: date
) -> Person:
    person_id = _required(employee, "id", "missing id")
    number = employment_number(employee)
    if not number:
        raise RefusedError("employment number missing")
    given_name = _required(employee, "firstName", "missing firstName")
    family_name = _required(employee, "lastName", "missing lastName")
    period = current_period(parse_periods(raw_periods), today)
    if period is None:
        raise RefusedError("no employment period")
    # Only what identifies a person makes a record invalid; an optional field that cannot be
    # used is dropped with a warning, and a target that needs it says so for this person.
    warnings: list[str] = []

    def optional(key: str, read: Callable[[Mapping[str, Any], str], Any]) -> Any:
        try:
            return read(employee, key)
        except RefusedError as refusal:
            warnings.append(f"{key} left out: {refusal}")
            return None

    return Person(
        person_id=PersonId(person_id),
        employee_number=EmployeeNumber(number),
        given_name=given_name,
        family_name=family_name,
        employment=_employment(period, lookups),
        email=optional("emailWork", _email),
        phone=optional("phone1", text_field),
        mobile=optional("phone4", text_field),
        street=optional("addressRow1", text_field),
        postal_code=optional("postalCode", text_field),
        city=optional("city", text_field),
        country=optional("country", text_field),
        birth_date=optional("dateOfBirth", date_field),
        manager_id=_manager(employee, person_id),
        organisation=organisation(period, lookups.levels),
        organisation_ids=organisation_ids(period, lookups.levels),
        custom=optional("custom", lambda record, _: _custom(record)) or (),
        warnings=tuple(warnings),
    )


def employment_number(employee: Mapping[str, Any]) -> str | None:
    """The first `employment[].employmentNumber` (one object accepted too; legacy: top level)."""
    employment = employee.get("employment")
    entries = [employment] if isinstance(employment, dict) else employment
    listed = entries if isinstance(entries, list) else []
    candidates = [e.get("employmentNumber") for e in listed if isinstance(e, dict)]
    candidates.append(employee.get("employmentNumber"))
    return next((n for c in candidates if (n := _plain(c))), None)


def _employment(period: Period, lookups: Lookups) -> Employment:
    title = lookups.titles.get(period.title_id or "")
    kind = lookups.types.get(period.type_id or "")
    return Employment(
        company_id=lookups.company.id,
        company_name=lookups.company.name,
        title=title.name if title else None,
        employment_type=kind.name if kind else None,
        start_date=period.start,
        end_date=period.end,
        is_external=is_external(kind, lookups.external_types),
    )


def is_external(kind: Coded | None, external_types: frozenset[str]) -> bool:
    names = {kind.name.casefold(), (kind.code or "").casefold()} if kind else set()
    return not names.isdisjoint(external_types)


def organisation(period: Period, levels: Sequence[OrgLevel]) -> tuple[tuple[str, str], ...]:
    """(level name, account name) for each level the period has an account in, in level order."""
    pairs = (
        (level.name, level.accounts.get(period.accounts.get(level.distribution_id, "")))
        for level in levels
    )
    return tuple((name, value) for name, value in pairs if value)


def organisation_ids(period: Period, levels: Sequence[OrgLevel]) -> tuple[tuple[str, str], ...]:
    """(level name, account id) for the same levels as `organisation`: an account keeps its id
    when it is renamed, so hrsync's groups of the unit keep theirs (hrsync.engine.group_tree)."""
    pairs = ((level, period.accounts.get(level.distribution_id, "")) for level in levels)
    return tuple(
        (level.name, account) for level, account in pairs if account and account in level.accounts
    )


def _manager(employee: Mapping[str, Any], person_id: str) -> PersonId | None:
    manager = _plain(employee.get("immediateManagerEmployeeId"))
    return PersonId(manager) if manager and manager != person_id else None


def _custom(employee: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Fields a Person has no slot for, under their Flex names."""
    gender = GENDERS.get(_plain(employee.get("gender")) or "")
    extra = {"gender": gender, "addressRow2": text_field(employee, "addressRow2")}
    return tuple((name, value) for name, value in extra.items() if value)


# Employment periods.


def parse_periods(records: Sequence[Record]) -> list[Period]:
    return [_period(normalise_keys(dict(record))) for record in records]


def _period(record: dict[str, Any]) -> Period:
    period_id = _plain(record.get("id")) or "?"
    try:
        start, end = date_field(record, "fromDate"), date_field(record, "toDate")
    except RefusedError as refusal:
        raise RefusedError(f"employment period {period_id}: {refusal}") from None
    if start and end and end < start:
        raise RefusedError(f"employment period {period_id} ends ({end}) before it starts ({start})")
    return Period(
        id=period_id,
        start=start,
        end=end,
        title_id=_plain(record.get("titleId")),
        type_id=_plain(record.get("employmentTypeId")),
        accounts=_period_accounts(record.get("accounts")),
    )


def _period_accounts(raw: Any) -> dict[str, str]:
    entries = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    pairs = [(_plain(e.get("accountDistributionId")), _plain(e.get("accountId"))) for e in entries]
    return {
        distribution: account
        for distribution, account in reversed(pairs)
        if distribution and account
    }


def current_period(periods: Sequence[Period], today: date) -> Period | None:
    """The period covering today, else the next one to start (pre-hire), else the last (leaver)."""
    covering = [p for p in periods if p.covers(today)]
    if covering:
        return max(covering, key=lambda p: p.start or date.min)
    upcoming = [p for p in periods if p.start and p.start > today]
    if upcoming:
        return min(upcoming, key=lambda p: p.start or date.max)
    return max(periods, key=lambda p: p.end or date.max, default=None)


# C0 and C1 controls, DEL, and lone surrogates (Unicode categories Cc and Cs), except the white
# space that `split` below folds into single spaces.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")


def sanitise(value: str) -> str:
    """NFC, control characters removed, runs of white space (newlines too) made one space."""
    if value.isascii() and value.isprintable():
        return " ".join(value.split())  # the common case, and already NFC
    kept = _CONTROL.sub("", value)
    return unicodedata.normalize("NFC", " ".join(kept.split()))


def text_field(record: Mapping[str, Any], key: str, limit: int = MAX_TEXT) -> str | None:
    """A sanitised text value; None when absent or blank. Refuses structures and long values."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise RefusedError(f"{key} is not text")
    text = sanitise(str(value))
    if len(text) > limit:
        raise RefusedError(f"{key} longer than {limit} characters")
    return text or None


def _required(record: Mapping[str, Any], key: str, reason: str) -> str:
    text = text_field(record, key)
    if not text:
        raise RefusedError(reason)
    return text


def _email(employee: Mapping[str, Any], key: str = "emailWork") -> str | None:
    email = text_field(employee, key, MAX_EMAIL + 1)
    if email is not None and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        raise RefusedError(f"email {email!r} is not a valid address")
    return email


ISO_DAY = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})?)?"
)
"""The shapes Flex sends: a date, or a naive or UTC datetime with up to .NET's 7 fraction digits."""


def parse_day(value: str) -> date | None:
    """`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.fff][Z]` → the calendar day as written (no shift)."""
    text = value.strip()
    if not text:
        return None
    if not ISO_DAY.fullmatch(text):
        raise ValueError(text)
    day = datetime.fromisoformat(text).date()
    return None if day.year <= 1 else day  # 0001-01-01 is .NET's DateTime.MinValue: "no date"


def date_field(record: Mapping[str, Any], key: str) -> date | None:
    value = record.get(key)
    if value is None:
        return None
    try:
        return parse_day(str(value))
    except ValueError:
        raise RefusedError(f"{key} {str(value)[:40]!r} is not a date") from None


def _plain(value: Any) -> str | None:
    """A scalar id, code or name as stripped text; None for absent, blank or structured values."""
    if value is None or isinstance(value, dict | list):
        return None
    return sanitise(str(value)) or None


def source_ref(employee: Mapping[str, Any], company: Company) -> str:
    """`employee <id> (<company name> #<employment number>)`, built from whatever is present."""
    person_id, number = _plain(employee.get("id")), employment_number(employee)
    return f"employee {person_id or '?'} ({company.name} #{number or '?'})"


def excerpt(employee: Mapping[str, Any]) -> str:
    """A short JSON view of the identifying fields, to help an admin find the record in Flex."""
    shown = {key: employee[key] for key in EXCERPT_KEYS if key in employee}
    text = json.dumps(shown, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…"
