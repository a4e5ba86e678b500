"""How Microsoft 365 names hrsync's groups: security groups named by the unit's own name
(`displayName`), addressed by the object id Graph gives (provisional until created), kept apart
by the marker in their description, the unit's path id (so two Finance departments under two
offices stay two groups, and a renamed department keeps its group). Not nested."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.domain.account import Attributes
from hrsync.domain.ids import GroupId
from hrsync.domain.profile import TargetProfile
from hrsync.engine.group_names import PathNames
from hrsync.engine.group_tree import GroupNode

NEW_GROUP = "new-group:"
"""A provisional ref: the object id exists once Graph has created the group."""


@dataclass(frozen=True, slots=True)
class GraphGroupNaming:
    profile: TargetProfile
    nests: bool = False

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
        return {"displayName": node.name}

    def new_attributes(self, node: GroupNode, taken: set[str]) -> Attributes:
        return {}
