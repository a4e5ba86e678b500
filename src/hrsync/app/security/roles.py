"""Roles: admin (everything), operator (run, simulate, approve, tickets), viewer (read only).

A role is a Django group; a superuser is an admin. Every view and API call asks `has_role`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Role(IntEnum):
    """Ordered: each role may do everything the ones below it may."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3


def role_of(user: Any) -> Role | None:
    """The highest role of a signed-in user; None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = {group.name for group in user.groups.all()}
    return next((role for role in sorted(Role, reverse=True) if role.name.lower() in names), None)


def has_role(user: Any, needed: Role) -> bool:
    role = role_of(user)
    return role is not None and role >= needed
