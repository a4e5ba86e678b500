"""How Active Directory names hrsync's groups: a CN made of the unit's path, unique in the groups
OU (hrsync.engine.groups chooses it), a sAMAccountName unique in the domain, and a scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hrsync.connectors.active_directory.dn import escape_dn_value, parent_of
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.domain.account import Attributes
from hrsync.domain.ids import GroupId
from hrsync.domain.profile import TargetProfile
from hrsync.engine.group_names import PathNames
from hrsync.engine.group_tree import GroupNode
from hrsync.engine.groups import shown_path
from hrsync.mapping.names import login_part

SAM_MAX = 20
CN_NAMES = PathNames(64)
"""A group's CN is its unit's path, in AD's 64 characters (rangeUpper of cn)."""
SCOPES = ("global", "universal")


@dataclass(frozen=True, slots=True)
class DirectoryGroupNaming:
    """Groups in the OU `ou`, made with `scope`, their sAMAccountNames after `sam_prefix`."""

    ou: str
    scope: str = "global"
    sam_prefix: str = ""

    @property
    def profile(self) -> TargetProfile:
        return AD_PROFILE

    @property
    def path_names(self) -> PathNames | None:
        return CN_NAMES

    @property
    def nests(self) -> bool:
        return True

    def ref_for(self, group_id: GroupId, name: str) -> str:
        return f"CN={escape_dn_value(name)},{self.ou}"

    def renamed_ref(self, ref: str, name: str) -> str:
        return f"CN={escape_dn_value(name)},{parent_of(ref)}"

    def attributes(self, node: GroupNode) -> Attributes:
        return {
            "displayName": node.name,
            "description": f"{shown_path(node)} ({node.level}); kept by hrsync from HR",
        }

    def new_attributes(self, node: GroupNode, taken: set[str]) -> Attributes:
        for candidate in _sam_candidates(self.sam_prefix, node):
            if candidate.casefold() not in taken:
                taken.add(candidate.casefold())
                return {"sAMAccountName": candidate}
        raise AssertionError("unreachable: numbered candidates are unbounded")


def _sam_candidates(prefix: str, node: GroupNode) -> Iterator[str]:
    """prefix + the path's names folded to ASCII ("stockholm-finance"), when that fits in 20
    characters; else prefix + the unit's own name cut short + the id's start; then numbered."""
    parts = [login_part(name).replace(".", "") for name in node.path]
    whole = prefix + "-".join(parts)
    if all(parts) and len(whole) <= SAM_MAX:
        yield whole
    tail = "-" + node.group_id[:6]
    head = (prefix + (parts[-1] or "group"))[: SAM_MAX - len(tail)].rstrip(".-")
    yield head + tail
    number = 2
    while True:
        numbered = f"{tail}{number}"
        yield head[: SAM_MAX - len(numbered)].rstrip(".-") + numbered
        number += 1
