"""A person's fields as people read them, in diffs, on tickets and in the console.

`Person.fields()` names fields as the mapping language does (`manager_id`, `org.Office`,
`orgid.Office`, `company_id`); an admin reads "Manager", "Office", "Company". An id that stands
beside a named value (`orgid.Office` beside `org.Office`, `company_id` beside `company_name`)
takes the value's label and is left out of a diff where the named value changed too: a unit
moved to another office changes both, and "Office: Stockholm → Göteborg" says it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LABELS = {
    "employee_number": "Employee number",
    "given_name": "Given name",
    "family_name": "Family name",
    "email": "E-mail",
    "phone": "Phone",
    "mobile": "Mobile",
    "street": "Street",
    "postal_code": "Postal code",
    "city": "City",
    "country": "Country",
    "birth_date": "Birth date",
    "manager_id": "Manager",
    "company_id": "Company",
    "company_name": "Company",
    "title": "Title",
    "employment_type": "Employment type",
    "start_date": "Start date",
    "end_date": "End date",
    "is_external": "External personnel",
    "warnings": "Left out",
}
PERSON_REFERENCES = frozenset({"manager_id"})
"""Fields whose value is another person's id: shown as that person's name."""
_PREFIXES = ("org.", "orgid.", "custom.")


def field_label(name: str) -> str:
    """ "Office" for `org.Office` and `orgid.Office`, "Start date" for `start_date`; a custom
    field by its own name; an unknown field as it is."""
    if name in LABELS:
        return LABELS[name]
    for prefix in _PREFIXES:
        if name.lower().startswith(prefix):
            return name[len(prefix) :]
    return name


def named_twin(name: str) -> str | None:
    """The field whose value this id stands for (`orgid.Office` → `org.Office`), if any."""
    if name == "company_id":
        return "company_name"
    if name.lower().startswith("orgid."):
        return "org." + name[len("orgid.") :]
    return None


@dataclass(frozen=True, slots=True)
class FieldChange:
    name: str
    label: str
    old: str | None
    new: str | None


def readable_changes(
    changed: Mapping[str, tuple[str | None, str | None] | list[str | None]],
    names: Mapping[str, str] | None = None,
) -> list[FieldChange]:
    """The changed fields as people read them, in their order: labelled, a person id shown by
    `names` (person id → "Anna Berg (1002)") where it has one, ids beside a changed named value
    left out."""
    known = names or {}
    rows = []
    for name, (old, new) in changed.items():
        twin = named_twin(name)
        if twin is not None and twin in changed:
            continue
        if name in PERSON_REFERENCES:
            rows.append(
                FieldChange(name, field_label(name), _named(old, known), _named(new, known))
            )
        else:
            rows.append(FieldChange(name, field_label(name), old, new))
    return rows


def people_referenced(changed: Mapping[str, object]) -> set[str]:
    """The person ids a diff's values name (its managers), for one lookup of their names."""
    found: set[str] = set()
    for name in PERSON_REFERENCES & set(changed):
        value = changed[name]
        values = value if isinstance(value, list | tuple) else (value,)
        found.update(str(v) for v in values if v)
    return found


def _named(value: str | None, names: Mapping[str, str]) -> str | None:
    return names.get(value, value) if value else value
