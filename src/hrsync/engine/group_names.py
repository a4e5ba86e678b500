"""Group names made of a unit's path, for targets that name a group by it and rename the group
when the path changes (AD's CN, at most 64 characters). Pure.

"Stockholm - Finance - Payable"; cut to the target's length with the units above shortened
first, so the unit's own name stays whole where it can; then with the start of the unit's id
for a collision, then numbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hrsync.engine.group_tree import GroupNode

PATH_SEPARATOR = " - "
"""Between the units' names: "Stockholm - Finance - Payable"."""
MIN_SHOWN = 8
"""Of the units above, at least this many characters are shown in a shortened name."""


@dataclass(frozen=True, slots=True)
class PathNames:
    """Path names in at most `length` characters."""

    length: int

    def candidates(self, node: GroupNode) -> tuple[str, str]:
        """The path as the name; then with the id's start, for a collision."""
        return self._fit(node.path, ""), self._fit(node.path, f" ({node.group_id[:6]})")

    def numbered(self, node: GroupNode, number: int) -> str:
        return self._fit(node.path, f" ({node.group_id[:6]}-{number})")

    def choose(self, node: GroupNode, taken: set[str]) -> str:
        """The first name for the unit not in `taken` (case-folded), which then holds it."""
        for candidate in self.candidates(node):
            if candidate.casefold() not in taken:
                taken.add(candidate.casefold())
                return candidate
        number = 2
        while (candidate := self.numbered(node, number)).casefold() in taken:
            number += 1
        taken.add(candidate.casefold())
        return candidate

    def is_name_for(self, name: str, node: GroupNode) -> bool:
        """True when `name` is one `choose` could give the unit: then it is kept (the
        collision that made it may still stand), else the group is renamed."""
        if name in self.candidates(node):
            return True
        numbered = self.numbered(node, 2)
        head, tail = re.escape(numbered[: -len(f"{node.group_id[:6]}-2)")]), node.group_id[:6]
        return re.fullmatch(rf"{head}{tail}-\d+\)", name) is not None

    def _fit(self, path: tuple[str, ...], tail: str) -> str:
        """The path joined, with `tail`, in `length` characters: the units above are cut short
        first ("Stockholm - Avdelning… - Payable")."""
        whole = PATH_SEPARATOR.join(path)
        if len(whole) + len(tail) <= self.length:
            return whole + tail
        own = PATH_SEPARATOR + path[-1] + tail
        above = PATH_SEPARATOR.join(path[:-1])
        room = self.length - len(own) - 1
        if len(path) > 1 and room >= MIN_SHOWN:
            return above[:room].rstrip() + "…" + own
        return whole[: self.length - len(tail) - 1].rstrip() + "…" + tail
