"""How a SCIM app names hrsync's groups: by the unit's own name (`displayName`), addressed by
the SCIM id the app gives (provisional until created), kept apart by `externalId`, the unit's
path id (so two Finance departments under two offices stay two groups, and a renamed
department keeps its group). Not nested as members; an app whose Group schema has a parent
attribute (hrsync.connectors.scim.discovery.PARENT_NAMES) gets the parent unit's externalId."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hrsync.connectors.scim.policy import NEW_GROUP
from hrsync.domain.account import Attributes
from hrsync.domain.ids import GroupId
from hrsync.domain.profile import TargetProfile
from hrsync.engine.group_names import PathNames
from hrsync.engine.group_tree import GroupNode

GROUP_MARKER = "hrsync-group:"
"""A group's externalId: this marker and its unit's path id. Only groups so marked are hrsync's."""
PARENT = "parentExternalId"
"""The key of the parent's externalId among a group's attributes, whatever the app calls it."""


def no_parent_attribute() -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class ScimGroupNaming:
    profile: TargetProfile
    nests: bool = False
    """Whether child groups are members of their parent's group (an app that nests groups)."""
    parent_path: Callable[[], str | None] = no_parent_attribute
    """The app's parent attribute, once discovery has read its schemas (ScimTarget's
    `group_parent_path`); asked when groups are planned, which is after the accounts are read."""

    @property
    def path_names(self) -> PathNames | None:
        return None

    @property
    def scope(self) -> str:
        return ""

    def ref_for(self, group_id: GroupId, name: str) -> str:
        return NEW_GROUP + group_id

    def renamed_ref(self, ref: str, name: str) -> str:
        return ref

    def attributes(self, node: GroupNode) -> Attributes:
        attributes: Attributes = {"displayName": node.name}
        if node.parent_id is not None and self.parent_path() is not None:
            attributes[PARENT] = GROUP_MARKER + node.parent_id
        return attributes

    def new_attributes(self, node: GroupNode, taken: set[str]) -> Attributes:
        return {}
