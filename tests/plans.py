"""What tests expect of plans."""

from __future__ import annotations

from hrsync.domain.changes import CHANGE_KINDS

NOTHING = dict.fromkeys(CHANGE_KINDS.values(), 0)
"""A plan's counts when there is nothing to do."""
