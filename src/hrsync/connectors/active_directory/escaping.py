"""DN and filter syntax: escaping values for DNs (RFC 4514) and filters (RFC 4515); pure functions.

Every value from HR data reaches a DN through `escape_dn_value` (or `rdn`) and a filter through
`escape_filter_value`, so a name like `*)(uid=*` or `,CN=Admin` stays a name.
"""

from __future__ import annotations

import ldap.dn

# RFC 4514 §2.4: these must be escaped anywhere in a value. '=' need not be, but escaping it is
# allowed and keeps naive RDN splitters (and older servers) from misreading the value.
_DN_SPECIAL = frozenset('"+,;<>\\=')
# RFC 4515 §3: the characters that would change a filter's meaning.
_FILTER_SPECIAL = frozenset("*()\\\0")


def escape_dn_value(value: str) -> str:
    """Escape one attribute value for use in a DN string (RFC 4514 §2.4).

    Special characters get a backslash; a leading '#' or space and a trailing space too; NUL, the
    other C0 controls and DEL become hex pairs (`\\00`, `\\0a`) so nothing invisible reaches the
    server and every value round-trips through a conforming parser.
    """
    last = len(value) - 1
    return "".join(_escape_dn_char(char, index, last) for index, char in enumerate(value))


def _escape_dn_char(char: str, index: int, last: int) -> str:
    if char in _DN_SPECIAL or (char == "#" and index == 0):
        return "\\" + char
    if char == " " and index in (0, last):
        return "\\ "
    if _is_control(char):
        return f"\\{ord(char):02x}"
    return char


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or ord(char) == 0x7F


def rdn(attribute: str, value: str) -> str:
    """One RDN, e.g. rdn("CN", "Anna, Boss") == "CN=Anna\\, Boss"."""
    return f"{attribute}={escape_dn_value(value)}"


def escape_filter_value(value: str) -> str:
    """Escape one assertion value for an LDAP filter (RFC 4515 §3): `*`, `(`, `)`, `\\`, NUL."""
    return "".join(f"\\{ord(char):02x}" if char in _FILTER_SPECIAL else char for char in value)


def split_rdn(dn: str) -> tuple[str, str]:
    """The first RDN and the parent DN of a DN string, split at the first unescaped comma.

    Both parts are returned exactly as written (no trimming: a trailing escaped space belongs to
    the value), so the parent compares with other DNs the server returned. A DN without a comma
    has an empty parent.
    """
    is_escaped = False
    for index, char in enumerate(dn):
        if is_escaped:
            is_escaped = False
        elif char == "\\":
            is_escaped = True
        elif char == ",":
            return dn[:index], dn[index + 1 :]
    return dn, ""


def parent_dn(dn: str) -> str:
    return split_rdn(dn)[1]


def first_rdn(dn: str) -> str:
    return split_rdn(dn)[0]


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
