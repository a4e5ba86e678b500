"""How each source kind presents itself: its name, the name rules use, its icon."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.app.models import Source


@dataclass(frozen=True, slots=True)
class SourceLook:
    label: str
    """Shown to people: "Flex HRM"."""
    trigger_name: str
    """What a trigger's `source` condition compares with: "FlexHR" (the seed's spelling)."""
    icon: str
    """Static path of the icon shown wherever tickets are listed."""


LOOKS = {
    "flexhrm": SourceLook("Flex HRM", "FlexHR", "hrsync/sources/flexhrm.svg"),
    "manual": SourceLook("Manual", "Manual", "hrsync/sources/manual.svg"),
    "csv": SourceLook("CSV file", "CSV", "hrsync/sources/hr.svg"),
    "afas": SourceLook("AFAS Profit", "AFAS", "hrsync/sources/hr.svg"),
}


def describe_source(source: Source) -> SourceLook:
    return LOOKS.get(source.kind, SourceLook(source.kind, source.kind, "hrsync/sources/hr.svg"))
