"""The 15 data fields of the seed's mapping table: from a Flex HRM employee into a contract, and
back from a signed contract into the employee fields that differ."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Record = Mapping[str, Any]

EMPLOYEE_FIELDS: tuple[tuple[str, str], ...] = (
    ("first_name", "firstName"),
    ("surname", "lastName"),
    ("national_id_number", "nationalIdentificationNumber"),
    ("co_address", "addressRow1"),
    ("street_address", "addressRow2"),
    ("postal_code", "postalCode"),
    ("city", "city"),
    ("country", "country"),
    ("email_work", "emailWork"),
    ("mobile_phone_private", "phone4"),
)
"""Data fields that are employee fields in Flex HRM (custom id, camelCase field): the ones a
signed contract writes back."""

CUSTOM_IDS: tuple[str, ...] = (
    "employee_number",
    *(custom_id for custom_id, _ in EMPLOYEE_FIELDS),
    "immediate_manager",
    "position",
    "start_of_employment",
    "end_of_employment",
)


@dataclass(frozen=True, slots=True)
class Employment:
    """The employment the contract is about: its period and the names behind its ids."""

    employee_number: str
    start: str | None
    """YYYY-MM-DD."""
    end: str | None
    title_name: str | None
    manager_name: str | None


def field_of(record: Record, name: str) -> Any:
    """A field of a Flex record in either casing (camelCase or PascalCase)."""
    if name in record:
        return record[name]
    return record.get(name[:1].upper() + name[1:])


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def contract_values(employee: Record, employment: Employment) -> dict[str, str]:
    """Every data field's value for this employee, dates as YYYY-MM-DD ('' when unknown)."""
    values = {custom_id: text(field_of(employee, key)) for custom_id, key in EMPLOYEE_FIELDS}
    values |= {
        "employee_number": employment.employee_number,
        "immediate_manager": text(employment.manager_name),
        "position": text(employment.title_name),
        "start_of_employment": text(employment.start)[:10],
        "end_of_employment": text(employment.end)[:10],
    }
    return {custom_id: values[custom_id] for custom_id in CUSTOM_IDS}


def employee_updates(signed: Mapping[str, str], employee: Record) -> dict[str, str | None]:
    """The employee fields whose value in the signed contract differs from Flex HRM. A field
    the contract does not carry is left alone; an emptied one is written as null."""
    updates: dict[str, str | None] = {}
    for custom_id, key in EMPLOYEE_FIELDS:
        if custom_id not in signed:
            continue
        wanted = text(signed[custom_id])
        if wanted != text(field_of(employee, key)):
            updates[key] = wanted or None
    return updates


def data_fields(contract: Record) -> dict[str, str]:
    """A contract's data fields by custom id."""
    found: dict[str, str] = {}
    for field in contract.get("data_fields") or []:
        custom_id = (field.get("_private_ownerside") or {}).get("custom_id")
        if custom_id:
            found[str(custom_id)] = text(field.get("value"))
    return found
