"""How a file names hrsync's groups (Winningtemp's groups file): one row per organisation unit,
its ExternalId the unit's path id (so two Finance departments under two offices stay two
groups, and a renamed department keeps its id), its Name the unit's own name, and its parent
the group holding it: groups nest, and a person is a member of their lowest unit's group only."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.domain.account import Attributes
from hrsync.domain.ids import GroupId
from hrsync.domain.profile import TargetProfile
from hrsync.engine.group_names import PathNames
from hrsync.engine.group_tree import GroupNode


@dataclass(frozen=True, slots=True)
class CsvGroupNaming:
    profile: TargetProfile
    nests: bool = True

    @property
    def path_names(self) -> PathNames | None:
        return None

    @property
    def scope(self) -> str:
        return ""

    def ref_for(self, group_id: GroupId, name: str) -> str:
        return group_id

    def renamed_ref(self, ref: str, name: str) -> str:
        return ref

    def attributes(self, node: GroupNode) -> Attributes:
        return {"displayName": node.name}

    def new_attributes(self, node: GroupNode, taken: set[str]) -> Attributes:
        return {}
