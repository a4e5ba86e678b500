"""The person as hrsync normalises it from any HR source."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from hrsync.domain.ids import EmployeeNumber, PersonId


@dataclass(frozen=True, slots=True)
class Employment:
    """The person's current (or, for a leaver, last; for a pre-hire, next) employment period."""

    company_id: str
    company_name: str
    title: str | None = None
    employment_type: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    is_external: bool = False

    def is_active_on(self, day: date) -> bool:
        """True when `day` lies inside the period (both ends inclusive, open end allowed)."""
        started = self.start_date is None or self.start_date <= day
        return started and not self.has_ended_by(day)

    def has_ended_by(self, day: date) -> bool:
        """True once the last day of the period lies before `day`."""
        return self.end_date is not None and self.end_date < day

    def starts_after(self, day: date) -> bool:
        return self.start_date is not None and self.start_date > day


@dataclass(frozen=True, slots=True)
class Person:
    """One employee, validated and sanitised. Values are plain text, already normalised (NFC)."""

    person_id: PersonId
    employee_number: EmployeeNumber
    given_name: str
    family_name: str
    employment: Employment
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    birth_date: date | None = None
    manager_id: PersonId | None = None
    organisation: tuple[tuple[str, str], ...] = ()
    """Ordered organisation levels, e.g. (("Office", "Stockholm"), ("Department", "Finance"))."""
    organisation_ids: tuple[tuple[str, str], ...] = ()
    """The source's stable id of each level's value, where it has one (Flex HRM: the account's
    id), e.g. (("Office", "5d0c…"),): a renamed unit keeps its id, so its groups keep theirs."""
    custom: tuple[tuple[str, str], ...] = field(default=())
    warnings: tuple[str, ...] = ()
    """Optional fields the source gave but hrsync could not use, each with the reason; the field
    is left out (e.g. "emailWork left out: email 'x' is not a valid address")."""

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def organisation_value(self, level: str) -> str | None:
        """The value at one organisation level, matched case-insensitively."""
        return _level(self.organisation, level)

    def organisation_id(self, level: str) -> str | None:
        """The source's id of the value at one organisation level, when it gave one."""
        return _level(self.organisation_ids, level)

    def fields(self) -> dict[str, str | None]:
        """A flat, ordered view of every field, the unit of change detection and of diffs."""
        flat: dict[str, str | None] = {
            "employee_number": self.employee_number,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email": self.email,
            "phone": self.phone,
            "mobile": self.mobile,
            "street": self.street,
            "postal_code": self.postal_code,
            "city": self.city,
            "country": self.country,
            "birth_date": _iso(self.birth_date),
            "manager_id": self.manager_id,
            "company_id": self.employment.company_id,
            "company_name": self.employment.company_name,
            "title": self.employment.title,
            "employment_type": self.employment.employment_type,
            "start_date": _iso(self.employment.start_date),
            "end_date": _iso(self.employment.end_date),
            "is_external": str(self.employment.is_external).lower(),
        }
        flat.update({f"org.{name}": value for name, value in self.organisation})
        flat.update({f"orgid.{name}": value for name, value in self.organisation_ids})
        flat.update({f"custom.{name}": value for name, value in self.custom})
        if self.warnings:  # only when there are any: the content hash of everyone else holds
            flat["warnings"] = "\n".join(self.warnings)
        return flat

    def content_hash(self) -> str:
        """A stable digest of every field: equal hashes mean nothing changed."""
        return hash_fields(self.fields())


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    """A source record that failed validation: set aside with its reason, never fatal."""

    source_ref: str
    reason: str
    excerpt: str = ""


def hash_fields(flat: Mapping[str, str | None]) -> str:
    """`Person.content_hash` of the person whose `fields()` these are: for callers that hold
    the fields already (an import stores them too), so they are not built twice."""
    canonical = json.dumps(flat, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _level(pairs: tuple[tuple[str, str], ...], level: str) -> str | None:
    for name, value in pairs:  # the exact name first: the common case, asked per person per run
        if name == level:
            return value
    wanted = level.casefold()
    return next((value for name, value in pairs if name.casefold() == wanted), None)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def person_from_fields(person_id: PersonId, flat: dict[str, str | None]) -> Person:
    """Rebuild a person from `Person.fields()` output (how the store keeps it)."""

    def text(key: str) -> str | None:
        return flat.get(key)

    def day(key: str) -> date | None:
        value = flat.get(key)
        return date.fromisoformat(value) if value else None

    prefixed = [(k, v or "") for k, v in flat.items()]
    return Person(
        person_id=person_id,
        employee_number=EmployeeNumber(flat.get("employee_number") or ""),
        given_name=flat.get("given_name") or "",
        family_name=flat.get("family_name") or "",
        employment=Employment(
            company_id=flat.get("company_id") or "",
            company_name=flat.get("company_name") or "",
            title=text("title"),
            employment_type=text("employment_type"),
            start_date=day("start_date"),
            end_date=day("end_date"),
            is_external=flat.get("is_external") == "true",
        ),
        email=text("email"),
        phone=text("phone"),
        mobile=text("mobile"),
        street=text("street"),
        postal_code=text("postal_code"),
        city=text("city"),
        country=text("country"),
        birth_date=day("birth_date"),
        manager_id=PersonId(m) if (m := text("manager_id")) else None,
        organisation=tuple((k[4:], v) for k, v in prefixed if k.startswith("org.")),
        organisation_ids=tuple((k[6:], v) for k, v in prefixed if k.startswith("orgid.")),
        custom=tuple((k[7:], v) for k, v in prefixed if k.startswith("custom.")),
        warnings=tuple(w for w in (text("warnings") or "").split("\n") if w),
    )
