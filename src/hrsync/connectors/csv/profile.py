"""A CSV file as a target profile: its columns are the attributes, its key column the unique
name, no containers; groups where the format has a groups file and managers where it has a
manager column (Winningtemp), each filled by hrsync rather than by a mapping expression."""

from __future__ import annotations

from types import MappingProxyType

from hrsync.connectors.csv.formats import MANAGER, FileFormat
from hrsync.domain.profile import AttributeSpec, Capabilities, CorrelationKey, TargetProfile

NIGHTLY = "0 2 * * *"
"""Seed 004's "every 24 hours", at two at night."""
OWNER = "hrsync_person_id"
"""Where a row keeps the person id: in hrsync's copy of the file only, never delivered."""


def csv_profile(file_format: FileFormat) -> TargetProfile:
    """The profile of one file format; its mapping is the columns' expressions."""
    manager = file_format.derived_column(MANAGER)
    return TargetProfile(
        kind="csv",
        label=file_format.label,
        attributes=tuple(
            AttributeSpec(
                c.name,
                c.name,
                is_required=c.is_mandatory,
                max_length=c.max_length,
                is_unique=c.name == file_format.key,
            )
            for c in file_format.mapped
        ),
        # Disabling a row leaves it out of the delivered file (Flexwhere: no more access)
        # while hrsync's copy keeps it, so a rehire comes back as the same row.
        capabilities=Capabilities(
            groups=file_format.groups is not None,
            manager=manager is not None,
            disable=True,
            disable_removes=True,
            delete=True,
        ),
        correlation=tuple(CorrelationKey(c, f) for c, f in file_format.correlation),
        default_mapping=MappingProxyType({c.name: c.expression for c in file_format.mapped}),
        manager_attribute=manager or "manager",
        unique_names=(file_format.key,),
        owner_attribute=OWNER,
        ref_label="Row",
        default_schedule=NIGHTLY,
        where_label="File",
        username_attribute=file_format.key,
        mappable=r"^[A-Za-z][A-Za-z0-9_]{0,62}$",
        mappable_described="a column of the file (letters, digits and _)",
        set_by_hrsync=frozenset({OWNER} | {c.name for c in file_format.columns if c.derived}),
    )
