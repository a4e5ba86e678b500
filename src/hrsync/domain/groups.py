"""A group hrsync made from organisation levels, as a target holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from hrsync.domain.account import Attributes
from hrsync.domain.ids import GroupId

GROUP_ATTRIBUTES = ("displayName", "description")
"""The attributes hrsync keeps in step on its groups (besides the CN, kept by renaming)."""
EMPTY_SINCE = "empty_since"
"""hrsync's own bookkeeping in a group's attributes: the day (ISO) the group was found with no
one left in it; the target stores it next to the group's id (AD: in `adminDescription`)."""
HRSYNC_ID = "hrsync_id"
"""In an UpdateGroup's before/after only: the group's id is replaced (a group adopted when its
organisation unit got a source id, see hrsync.engine.groups)."""


@dataclass(frozen=True, slots=True)
class Group:
    """One group carrying hrsync's id, read from a target. Groups without the id are never read
    as groups, so hrsync never changes or retires them."""

    group_id: GroupId
    ref: str
    attributes: Attributes = field(default_factory=dict)
    """cn, sAMAccountName, displayName, description and `EMPTY_SINCE`, as far as set."""
    members: tuple[str, ...] = ()
    """Member refs as the target returned them (AD: DNs; SCIM: resource ids)."""

    @property
    def name(self) -> str:
        """The group's naming attribute (AD: the CN; elsewhere its display name)."""
        return self.attributes.get("cn") or self.attributes.get("displayName") or ""

    @property
    def empty_since(self) -> date | None:
        value = self.attributes.get(EMPTY_SINCE)
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None
