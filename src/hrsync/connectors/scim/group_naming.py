"""How a SCIM app names hrsync's groups: by the unit's own name (`displayName`), addressed by
the SCIM id the app gives (provisional until created), kept apart by `externalId`, the unit's
path id (so two Finance departments under two offices stay two groups, and a renamed
department keeps its group). Not nested: Winningtemp's SCIM has no group hierarchy."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.connectors.scim.policy import NEW_GROUP
from hrsync.domain.account import Attributes
from hrsync.domain.ids import GroupId
from hrsync.domain.profile import TargetProfile
from hrsync.engine.group_names import PathNames
from hrsync.engine.group_tree import GroupNode


@dataclass(frozen=True, slots=True)
class ScimGroupNaming:
    profile: TargetProfile
    nests: bool = False
    """Whether child groups are members of their parent's group (an app that nests groups)."""

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
