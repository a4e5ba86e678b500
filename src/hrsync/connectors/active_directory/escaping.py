"""DN and filter syntax: escaping values for DNs (RFC 4514) and filters (RFC 4515); pure functions.

Every value from HR data reaches a DN through `escape_dn_value` (or `rdn`) and a filter through
`escape_filter_value`, so a name like `*)(uid=*` or `,CN=Admin` stays a name.
"""

from __future__ import annotations

import ldap.dn

from hrsync.connectors.active_directory.dn import escape_dn_value, split_first_rdn

__all__ = [
    "dn_key",
    "escape_dn_value",
    "escape_filter_value",
    "first_rdn",
    "is_within",
    "parent_dn",
    "rdn",
]

# RFC 4515 §3: the characters that would change a filter's meaning.
_FILTER_SPECIAL = frozenset("*()\\\0")


def rdn(attribute: str, value: str) -> str:
    """One RDN, e.g. rdn("CN", "Anna, Boss") == "CN=Anna\\, Boss"."""
    return f"{attribute}={escape_dn_value(value)}"


def escape_filter_value(value: str) -> str:
    """Escape one assertion value for an LDAP filter (RFC 4515 §3): `*`, `(`, `)`, `\\`, NUL."""
    return "".join(f"\\{ord(char):02x}" if char in _FILTER_SPECIAL else char for char in value)


def parent_dn(dn: str) -> str:
    return split_first_rdn(dn)[1]


def first_rdn(dn: str) -> str:
    return split_first_rdn(dn)[0]


def dn_key(dn: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """A comparison key for a DN: parsed, attribute types and values case-folded."""
    return tuple(
        tuple((attribute.casefold(), value.casefold()) for attribute, value, _ in rdn)
        for rdn in ldap.dn.str2dn(dn)
    )


def is_within(dn: str, ancestor: str) -> bool:
    """True when `dn` is `ancestor` or lies below it."""
    inner, outer = dn_key(dn), dn_key(ancestor)
    return len(inner) >= len(outer) and inner[len(inner) - len(outer) :] == outer
