"""Classify what an import found for one person: joiner, update, mover, leaver, rehire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hrsync.domain.person import Person

MOVER_FIELDS = frozenset({"company_id", "company_name", "title"})
ORG_ID_PREFIX = "orgid."


class ChangeKind(StrEnum):
    JOINER = "joiner"
    UPDATE = "update"
    MOVER = "mover"
    LEAVER = "leaver"
    REHIRE = "rehire"


FieldDiff = dict[str, tuple[str | None, str | None]]


@dataclass(frozen=True, slots=True)
class PersonnelChange:
    kind: ChangeKind
    changed: FieldDiff
    """Field → (old, new); for a joiner every field, old None."""
    is_new: bool


def classify_change(before: Person | None, after: Person, today: date) -> PersonnelChange | None:
    """The change from `before` (None: never seen) to `after`; None when nothing changed."""
    if before is None:
        added: FieldDiff = {name: (None, value) for name, value in after.fields().items() if value}
        kind = ChangeKind.LEAVER if after.employment.has_ended_by(today) else ChangeKind.JOINER
        return PersonnelChange(kind, added, is_new=True)
    changed = diff_fields(before, after)
    if all(name.startswith(ORG_ID_PREFIX) for name in changed):
        return None  # the source's ids of the units are bookkeeping, not a personnel change
    return PersonnelChange(_kind(before, after, changed, today), changed, is_new=False)


def diff_fields(before: Person, after: Person) -> FieldDiff:
    old, new = before.fields(), after.fields()
    return {
        name: (old.get(name), new.get(name))
        for name in dict.fromkeys([*old, *new])
        if old.get(name) != new.get(name)
    }


def _kind(before: Person, after: Person, changed: FieldDiff, today: date) -> ChangeKind:
    was_gone = before.employment.has_ended_by(today)
    if was_gone and not after.employment.has_ended_by(today):
        return ChangeKind.REHIRE
    if "end_date" in changed and after.employment.end_date is not None:
        return ChangeKind.LEAVER
    if MOVER_FIELDS & changed.keys() or any(_is_move(name, before, after) for name in changed):
        return ChangeKind.MOVER
    return ChangeKind.UPDATE


def _is_move(name: str, before: Person, after: Person) -> bool:
    """An organisation level changed to another unit: a new value whose source id (when the
    source gives ids) differs too. The same id under a new name is the unit renamed."""
    if not name.startswith("org."):
        return False
    level = name.removeprefix("org.")
    old_id, new_id = before.organisation_id(level), after.organisation_id(level)
    return not (old_id and old_id == new_id)
