"""The field names a `[field]` reference may use: those of `Person.fields()`."""

from __future__ import annotations

import difflib

from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person

ORGANISATION_PREFIX = "org."
CUSTOM_PREFIX = "custom."


def _fixed_fields() -> tuple[str, ...]:
    # Read off a blank person, so a field added to Person is known here without a second list.
    blank = Person(PersonId(""), EmployeeNumber(""), "", "", Employment("", ""))
    return tuple(blank.fields())


PERSON_FIELDS = _fixed_fields()

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
