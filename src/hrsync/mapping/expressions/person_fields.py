"""The field names a `[field]` reference may use: those of `Person.fields()`."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person

ORGANISATION_PREFIX = "org."
CUSTOM_PREFIX = "custom."


def _fixed_fields() -> tuple[str, ...]:
    # Read off a blank person, so a field added to Person is known here without a second list.
    blank = Person(PersonId(""), EmployeeNumber(""), "", "", Employment("", ""))
    return tuple(blank.fields())


PERSON_FIELDS = _fixed_fields()


def field_value(fields: Mapping[str, str | None], name: str) -> str | None:
    """A field's value; organisation levels and custom fields match case-insensitively (HR
    systems spell "Department" as they like)."""
    value = fields.get(name)
    if value is None and name.startswith((ORGANISATION_PREFIX, CUSTOM_PREFIX)):
        wanted = name.casefold()
        value = next((v for k, v in fields.items() if k.casefold() == wanted), None)
    return value


# Names admins bring from Entra, AD and Flex HRM.
_SYNONYMS = {
    "givenname": "given_name",
    "firstname": "given_name",
    "sn": "family_name",
    "surname": "family_name",
    "lastname": "family_name",
    "mail": "email",
    "telephonenumber": "phone",
    "l": "city",
    "postalcode": "postal_code",
    "streetaddress": "street",
    "employeeid": "employee_number",
    "employeenumber": "employee_number",
    "department": "org.Department",
    "company": "company_name",
    "co": "country",
}


def suggest_field(name: str) -> str | None:
    """The field the admin probably meant, or None."""
    folded = name.casefold().replace("-", "_")
    if folded in _SYNONYMS:
        return _SYNONYMS[folded]
    by_fold = {field.casefold(): field for field in PERSON_FIELDS}
    if folded in by_fold:
        return by_fold[folded]
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.6)
    return by_fold[close[0]] if close else None
