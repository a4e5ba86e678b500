"""DN (RFC 4514) and filter (RFC 4515) escaping for Active Directory, and DN splitting."""

from __future__ import annotations

import re

import ldap.dn
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.connectors.active_directory.dn import split_first_rdn
from hrsync.connectors.active_directory.escaping import (
    escape_dn_value,
    escape_filter_value,
    first_rdn,
    is_within,
    parent_dn,
    rdn,
)

HOSTILE_VALUES = [
    "*)(uid=*",
    ",CN=Admin",
    "Admin,DC=example,DC=test",
    'Anna, "Boss" <Admin>',
    "#hash",
    "# hash",
    "trailing ",
    " leading",
    " ",
    "   ",
    "nul\x00byte",
    "new\nline",
    "tab\tand\rreturn",
    "bell\x07del\x7f",
    "a=b+c;d\\e",
    "\\",
    "\\2a",
    "Åsa Öberg-Ødegaard",
    "Zoë 😀 Łukasz",
    "e\u0301 combining",
    "\u202eright-to-left override",
    "zero\u200bwidth",
    "\ufeffbom",
    "line\u2028separator",
]


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("Anna Berg", "Anna Berg"),
        ("Berg, Anna", "Berg\\, Anna"),
        ('Anna "Boss"', 'Anna \\"Boss\\"'),
        ("<Admin>", "\\<Admin\\>"),
        ("a+b;c", "a\\+b\\;c"),
        ("a=b", "a\\=b"),
        ("back\\slash", "back\\\\slash"),
        ("#hash", "\\#hash"),
        ("in#side", "in#side"),
        (" lead", "\\ lead"),
        ("trail ", "trail\\ "),
        ("in side", "in side"),
        (" ", "\\ "),
        ("nul\x00", "nul\\00"),
        ("new\nline", "new\\0aline"),
        ("del\x7f", "del\\7f"),
        ("Åsa", "Åsa"),
        ("", ""),
    ],
)
def test_escape_dn_value_follows_rfc_4514(value: str, escaped: str) -> None:
    assert escape_dn_value(value) == escaped


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_values_stay_one_attribute_value(value: str) -> None:
    parsed = ldap.dn.str2dn(f"{rdn('CN', value)},OU=Staff,DC=example,DC=test")
    assert [[(attribute, text) for attribute, text, _ in part] for part in parsed] == [
        [("CN", value)],
        [("OU", "Staff")],
        [("DC", "example")],
        [("DC", "test")],
    ]


@given(st.text(min_size=1))
def test_any_escaped_value_round_trips_through_a_dn_parser(value: str) -> None:
    parsed = ldap.dn.str2dn(f"CN={escape_dn_value(value)},DC=example,DC=test")
    assert len(parsed) == 3
    assert len(parsed[0]) == 1
    assert parsed[0][0][:2] == ("CN", value)


@given(st.text(min_size=1))
def test_escaped_value_is_its_own_first_rdn(value: str) -> None:
    dn = f"{rdn('CN', value)},OU=Staff,DC=example,DC=test"
    assert split_first_rdn(dn) == (rdn("CN", value), "OU=Staff,DC=example,DC=test")


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("*)(uid=*", "\\2a\\29\\28uid=\\2a"),
        ("a\\b", "a\\5cb"),
        ("nul\x00", "nul\\00"),
        ("Åsa Öberg", "Åsa Öberg"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_escape_filter_value_follows_rfc_4515(value: str, escaped: str) -> None:
    assert escape_filter_value(value) == escaped


@given(st.text())
def test_escaped_filter_value_has_no_live_specials_and_unescapes(value: str) -> None:
    escaped = escape_filter_value(value)
    assert not set("*()\x00") & set(escaped)
    assert re.fullmatch(r"(?:[^\\]|\\[0-9a-f]{2})*", escaped, flags=re.DOTALL)
    assert re.sub(r"\\([0-9a-f]{2})", lambda hex_pair: chr(int(hex_pair[1], 16)), escaped) == value


@pytest.mark.parametrize(
    ("dn", "rdn_part", "parent"),
    [
        ("CN=Anna,OU=Staff,DC=example,DC=test", "CN=Anna", "OU=Staff,DC=example,DC=test"),
        ("CN=Berg\\, Anna,OU=Staff,DC=x", "CN=Berg\\, Anna", "OU=Staff,DC=x"),
        ("CN=back\\\\,OU=Staff", "CN=back\\\\", "OU=Staff"),
        ("CN=trail\\ ,OU=Staff", "CN=trail\\ ", "OU=Staff"),
        ("CN=a\\2Cb,DC=x", "CN=a\\2Cb", "DC=x"),
        ("DC=test", "DC=test", ""),
    ],
)
def test_split_rdn_splits_at_the_first_unescaped_comma(dn: str, rdn_part: str, parent: str) -> None:
    assert split_first_rdn(dn) == (rdn_part, parent)
    assert first_rdn(dn) == rdn_part
    assert parent_dn(dn) == parent


@pytest.mark.parametrize(
    ("dn", "ancestor", "is_inside"),
    [
        ("CN=Anna,OU=Staff,DC=example,DC=test", "DC=example,DC=test", True),
        ("cn=anna,ou=staff,dc=EXAMPLE,dc=Test", "DC=example,DC=test", True),
        ("DC=example,DC=test", "DC=example,DC=test", True),
        ("CN=a\\3Db,DC=example,DC=test", "DC=example,DC=test", True),
        ("CN=Anna,DC=other,DC=test", "DC=example,DC=test", False),
        ("CN=Anna,DC=example,DC=test", "OU=Staff,DC=example,DC=test", False),
        ("DC=test", "DC=example,DC=test", False),
        ("CN=x\\,DC\\=example\\,DC\\=test", "DC=example,DC=test", False),
    ],
)
def test_is_within_compares_parsed_dns(dn: str, ancestor: str, is_inside: bool) -> None:
    assert is_within(dn, ancestor) is is_inside
