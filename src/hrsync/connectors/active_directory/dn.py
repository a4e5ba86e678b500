"""Distinguished names as text (RFC 4514): escaping values, splitting, comparing by value (pure)."""

from __future__ import annotations

import functools
import re

# RFC 4514 §2.4: these must be escaped anywhere in a value. '=' need not be, but escaping it is
# allowed and keeps naive RDN splitters (and older servers) from misreading the value.
_DN_SPECIAL = frozenset(',+"\\<>;=')
_NEEDS_ESCAPE = re.compile(r'[,+"\\<>;=\x00-\x1f\x7f]|^[# ]| $')
"""A value escape_dn_value would change: a special or control character, a leading # or space,
a trailing space."""


def escape_dn_value(value: str) -> str:
    """Escape an attribute value for use in a DN, per RFC 4514 §2.4.

    Special characters are backslash-escaped; a leading '#' or space and a trailing space too;
    NUL and other control characters become hex pairs so nothing invisible reaches the server.
    """
    if not _NEEDS_ESCAPE.search(value):
        return value  # the common case, checked at C speed: plans escape every DN they compare
    out: list[str] = []
    last = len(value) - 1
    for index, char in enumerate(value):
        if char in _DN_SPECIAL or (char == "#" and index == 0):
            out.append("\\" + char)
        elif char == " " and index in (0, last):
            out.append("\\ ")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


@functools.lru_cache(maxsize=1 << 18)
def normalise_dn(dn: str) -> str:
    """A comparison key for DNs: each RDN unescaped, case-folded and escaped one way.

    Servers escape differently ("\\," or "\\2C"; Samba writes "\\0A" for a newline), so DNs are
    compared by value, never as the strings a server happened to return. Cached: a plan asks
    for the same DNs and OUs many times over.
    """
    rdns = []
    for rdn in split_rdns(dn):
        name, _, value = rdn.partition("=")
        value = unescape_dn_value(_strip_unescaped(value))
        rdns.append(f"{name.strip().casefold()}={escape_dn_value(value)}")
    return ",".join(rdns).casefold()


def split_rdns(dn: str) -> list[str]:
    """The RDNs of a DN, split at unescaped commas (multi-valued RDNs are kept whole)."""
    parts: list[str] = []
    rest = dn
    while rest:
        rdn, rest = split_first_rdn(rest)
        if rdn.strip():
            parts.append(_strip_unescaped(rdn))
    return parts


def _strip_unescaped(text: str) -> str:
    """Strip surrounding spaces, but keep an escaped trailing space ("\\ ")."""
    text = text.lstrip()
    while text.endswith(" ") and not text.endswith("\\ "):
        text = text[:-1]
    return text


def unescape_dn_value(value: str) -> str:
    """Undo RFC 4514 escaping: backslash + special character, or backslash + two hex digits."""
    if "\\" not in value:
        return value
    raw = bytearray()
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and _is_hex_pair(value[index + 1 : index + 3]):
            raw.append(int(value[index + 1 : index + 3], 16))
            index += 3
        elif char == "\\" and index + 1 < len(value):
            raw.extend(value[index + 1].encode())
            index += 2
        else:
            raw.extend(char.encode())
            index += 1
    return raw.decode("utf-8", errors="replace")


def _is_hex_pair(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdefABCDEF" for c in text)


def split_first_rdn(dn: str) -> tuple[str, str]:
    """The first RDN and the parent DN, split at the first unescaped comma, exactly as written
    (a trailing escaped space belongs to the value). A DN without a comma has an empty parent."""
    if "\\" not in dn:
        first, _, rest = dn.partition(",")
        return first, rest
    escaped = False
    for index, char in enumerate(dn):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            return dn[:index], dn[index + 1 :]
    return dn, ""


def parent_of(dn: str) -> str:
    return split_first_rdn(dn)[1]


def first_rdn_value(dn: str) -> str:
    """The value of a DN's first RDN, unescaped: the CN of `CN=Andersson\\, Anna,OU=…`."""
    return unescape_dn_value(split_first_rdn(dn)[0].partition("=")[2])
