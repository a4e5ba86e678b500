"""One CSV row into a person, or the reasons it is set aside ("line 14, CSV_EMAIL: 'jan@' is not
an e-mail address"). Pure: no IO, and nothing in a value is ever evaluated.

Hostile values: control and invisible characters (zero-width, bidi overrides) are removed, text
is NFC with white space folded, a spreadsheet's neutralising `'` is dropped; what is left that
starts like a formula (`=`, `@`, `+`, `-`) is refused, except a phone number's `+`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from hrsync.connectors.csv.source_formats import SourceColumn, kind_of
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, InvalidRecord, Person

MAX_TEXT = 256
"""Longest accepted text value; longer ones are refused rather than cut, so nothing is lost."""
MAX_EMAIL = 254
"""RFC 5321 §4.5.3.1: the longest usable address."""
MAX_PHONE = 50
MAX_ID = 64
"""The store keeps person ids and employee numbers of at most 64 characters."""
MAX_DN = 2048
MAX_EXCERPT = 300
LINKS = {"manager_dn": "manager_dn", "distinguished_name": "dn"}
"""Fields kept as custom values until the source resolves a manager's DN to a person."""

EMAIL = re.compile(r"[^@\s]{1,64}@(?:[^@\s.]+\.)+[^@\s.]+")
"""Deliberately loose, as for Flex HRM: one @, no spaces, a dotted domain."""
PHONE = re.compile(r"[0-9+\-() ]+")
"""Seed 004: phone numbers hold only digits and `+-() `."""
ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})([T ][0-9:.]+Z?)?")
FORMULA_STARTS = ("=", "@", "+", "-")
# C0 and C1 controls, DEL, lone surrogates, and the invisible format characters that make two
# equal-looking names differ (zero-width space/joiners, bidi marks and overrides, BOM, soft
# hyphen). White space is folded by `split` below.
_UNWANTED = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\u00ad\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2069\ufeff]"
)


class RowRefusedError(ValueError):
    """A value broke a rule; never escapes this module."""


@dataclass(frozen=True, slots=True)
class RowContext:
    """What every row of one file shares: its columns by position, the key column's position,
    and the source (the company of people whose file names none)."""

    columns: Sequence[SourceColumn | None]
    """Per header position the column read there; None: a column hrsync does not read."""
    header: Sequence[str]
    key_index: int
    source_key: str


def clean(value: str) -> str:
    """NFC, unwanted characters removed, white space (line breaks too) folded to one space,
    and a leading `'` dropped where it only neutralised a formula start."""
    if value.isascii() and value.isprintable():
        text = " ".join(value.split())
    else:
        text = unicodedata.normalize("NFC", " ".join(_UNWANTED.sub("", value).split()))
    if text.startswith("'") and text[1:2] in FORMULA_STARTS:
        text = text[1:]
    return text


def read_row(line: int, values: Sequence[str], context: RowContext) -> Person | InvalidRecord:
    """The person on one row, or an InvalidRecord naming the line, column and reason of each
    broken rule."""
    key = clean(values[context.key_index]) if context.key_index < len(values) else ""
    ref = f"line {line} ({key})" if key else f"line {line}"
    if len(values) != len(context.header):
        reason = (
            f"line {line}: {len(values)} values where the header has {len(context.header)} "
            "columns (a wrong separator, or a value with the separator not quoted?)"
        )
        return InvalidRecord(ref, reason, excerpt(values))
    fields: dict[str, str] = {}
    problems: list[str] = []
    for column, raw in zip(context.columns, values, strict=True):
        if column is None:
            continue
        try:
            value = checked(column, raw)
        except RowRefusedError as refusal:
            problems.append(f"line {line}, {column.name}: {refusal}")
            continue
        if value:
            fields[column.field] = value
    if problems:
        return InvalidRecord(ref, "; ".join(problems), excerpt(values))
    return build_person(PersonId(key), fields, context.source_key)


def checked(column: SourceColumn, raw: str) -> str:
    """The value cleaned and checked against the column's rules; the error says which broke."""
    value = clean(raw)
    if not value:
        if column.is_mandatory:
            raise RowRefusedError("is mandatory and empty")
        return ""
    kind = kind_of(column.field)
    limit = {"email": MAX_EMAIL, "phone": MAX_PHONE, "dn": MAX_DN}.get(kind, MAX_TEXT)
    if column.field in ("username", "employee_number") or column.is_key:
        limit = MAX_ID
    if len(value) > limit:
        raise RowRefusedError(f"{_shown(value)} is longer than {limit} characters ({len(value)})")
    if _is_formula(value, kind):
        raise RowRefusedError(f"{_shown(value)} starts like a spreadsheet formula")
    if kind == "email" and not EMAIL.fullmatch(value):
        raise RowRefusedError(f"{_shown(value)} is not an e-mail address")
    if kind == "phone" and not PHONE.fullmatch(value):
        raise RowRefusedError(f"{_shown(value)} is not a phone number (only digits and +-() )")
    if kind == "date":
        return _iso_day(value)
    if column.values and value not in column.values:
        raise RowRefusedError(f"{_shown(value)} is not one of {', '.join(column.values)}")
    return value


def _is_formula(value: str, kind: str) -> bool:
    if not value.startswith(FORMULA_STARTS):
        return False
    if kind == "phone" and value.startswith("+"):
        return False  # a country code; the phone rule checks the rest
    return value != "-"  # a lone dash is how many exports write "none"


def _iso_day(value: str) -> str:
    match = ISO_DAY.fullmatch(value)
    try:
        return date.fromisoformat(match.group(1)).isoformat() if match else _no_day(value)
    except ValueError:
        return _no_day(value)


def _no_day(value: str) -> str:
    raise RowRefusedError(f"{_shown(value)} is not a date (YYYY-MM-DD)")


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:39] + "…")


def build_person(person_id: PersonId, fields: Mapping[str, str], source_key: str) -> Person:
    """A person from the fields a row filled (person field → value)."""

    def day(name: str) -> date | None:
        value = fields.get(name)
        return date.fromisoformat(value) if value else None

    company = fields.get("company_name") or source_key
    username = {"custom.username": fields["username"]} if "username" in fields else {}
    custom = username | {k: v for k, v in fields.items() if k.startswith("custom.")}
    # Resolved into manager_id by the source once every row is read (an AD export names the
    # manager by DN), then dropped.
    custom |= {f"custom.{LINKS[k]}": v for k, v in fields.items() if k in LINKS}
    return Person(
        person_id=person_id,
        employee_number=EmployeeNumber(fields.get("employee_number") or person_id),
        given_name=fields.get("given_name", ""),
        family_name=fields.get("family_name", ""),
        employment=Employment(
            company_id=company,
            company_name=company,
            title=fields.get("title"),
            employment_type=fields.get("employment_type"),
            start_date=day("start_date"),
            end_date=day("end_date"),
        ),
        email=fields.get("email"),
        phone=fields.get("phone"),
        mobile=fields.get("mobile"),
        street=fields.get("street"),
        postal_code=fields.get("postal_code"),
        city=fields.get("city"),
        country=fields.get("country"),
        birth_date=day("birth_date"),
        manager_id=PersonId(m) if (m := fields.get("manager_id")) else None,
        organisation=tuple((k[4:], v) for k, v in fields.items() if k.startswith("org.")),
        custom=tuple((k[7:], v) for k, v in custom.items()),
    )


def excerpt(values: Sequence[str]) -> str:
    """The row as the admin would see it in the file, cut short."""
    text = ";".join(values)
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…"
