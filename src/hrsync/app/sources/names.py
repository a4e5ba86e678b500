"""People named as people read them: "Anna Berg (1002)" for a person id, in one query."""

from __future__ import annotations

from collections.abc import Iterable

from hrsync.app.models import Person


def person_names(person_ids: Iterable[str], source_id: int | None = None) -> dict[str, str]:
    """Person id → "Anna Berg (1002)" for the ids hrsync holds (in one source, where given);
    ids it does not hold are left out, so a caller shows them as they are."""
    wanted = {pid for pid in person_ids if pid}
    if not wanted:
        return {}
    rows = Person.objects.filter(person_id__in=wanted)
    if source_id is not None:
        rows = rows.filter(source_id=source_id)
    return {
        row.person_id: f"{row.display_name} ({row.employee_number})"
        for row in rows.only("person_id", "display_name", "employee_number")
    }
