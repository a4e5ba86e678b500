"""Dutch name usage (naamgebruik): which family name a person goes by, from AFAS's code.

A person has their own name (voorvoegsel + achternaam, e.g. "van der Berg") and may have a
partner's ("de Vries"). AFAS's `Naamgebruik_code` says which they use; HelloID spells the four
choices B, P, BP and PB, and so does hrsync (config.NAME_USAGE maps codes to them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hrsync.connectors.afas.config import NAME_USAGE, Convention


@dataclass(frozen=True, slots=True)
class NameParts:
    """The raw parts, already sanitised; empty strings for what AFAS left blank."""

    prefix: str = ""
    family_name: str = ""
    partner_prefix: str = ""
    partner_name: str = ""


@dataclass(frozen=True, slots=True)
class UsedName:
    family_name: str
    convention: Convention
    warning: str | None = None
    """Set when the name could not be built as the code asks (e.g. P without a partner name)."""


def joined(prefix: str, name: str) -> str:
    """ "van der" + "Berg" → "van der Berg" (a prefix is kept lower-case, as written in AFAS)."""
    return " ".join(part for part in (prefix.strip(), name.strip()) if part)


def convention_of(
    code: str | None, table: Mapping[str, Convention]
) -> tuple[Convention, str | None]:
    """The convention for a Naamgebruik code; B with a warning when the code is unknown."""
    if code is None or not code.strip():
        return "B", None
    found = table.get(code.strip())
    if found is None:
        return "B", f"Naamgebruik_code {code!r} unknown: the own name is used"
    return found, None


def used_family_name(
    parts: NameParts,
    code: str | None,
    table: Mapping[str, Convention] = NAME_USAGE,
    separator: str = " - ",
) -> UsedName:
    """The family name as the person uses it: own, partner's, or both in the code's order.

    Without a partner name, every convention falls back to the own name (with a warning), and
    without an own name to the partner's: a person is never left without a family name when
    AFAS has one.
    """
    convention, warning = convention_of(code, table)
    own = joined(parts.prefix, parts.family_name)
    partner = joined(parts.partner_prefix, parts.partner_name)
    if convention != "B" and not partner:
        note = f"name usage {convention} without a partner name: the own name is used"
        return UsedName(own, convention, warning or note)
    if not own:
        return UsedName(partner, convention, warning)
    match convention:
        case "B":
            return UsedName(own, convention, warning)
        case "P":
            return UsedName(partner, convention, warning)
        case "BP":
            return UsedName(f"{own}{separator}{partner}", convention, warning)
        case "PB":
            return UsedName(f"{partner}{separator}{own}", convention, warning)
