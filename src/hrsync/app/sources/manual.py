"""The built-in source `manual`: people an admin adds by hand, whom no HR system holds.

It has no connector: nothing imports it, so it has no settings, no schedule, no "Test
connection" and no "Import now"; its people are written by hrsync.app.imports.manual_people.
"""

from __future__ import annotations

from hrsync.app.models import Source

MANUAL_KEY = "manual"
MANUAL_KIND = "manual"
NOT_IMPORTED = (
    "the manual source has no connector: its people are added and edited by hand "
    "(the People page's 'Add person', or POST /api/people), never imported"
)
RESERVED = f"the source key {MANUAL_KEY!r} is reserved for people added by hand"


def is_manual(source: Source) -> bool:
    """Whether this is the built-in source of people added by hand."""
    return source.kind == MANUAL_KIND


def manual_source() -> Source:
    """The built-in source, created on first use where the data migration did not (a test
    database that was flushed). A source of another kind holding the key is refused."""
    row, _ = Source.objects.get_or_create(key=MANUAL_KEY, defaults={"kind": MANUAL_KIND})
    if not is_manual(row):
        raise LookupError(f"{RESERVED}, but a {row.kind or 'unconfigured'} source holds it")
    return row
