"""Pure name handling: ASCII folding, DN escaping and DN comparison across server spellings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.connectors.active_directory.dn import (
    escape_dn_value,
    normalise_dn,
    parent_of,
    unescape_dn_value,
)
from hrsync.mapping.names import fold_to_ascii, login_part


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Åsa Öberg", "Asa Oberg"),
        ("Jörgen Ähl", "Jorgen Ahl"),
        ("Ødegaard", "Odegaard"),
        ("Æsir Straße", "Aesir Strasse"),
        ("Zoë Müller", "Zoe Muller"),
        ("李", ""),
    ],
)
def test_folding(text: str, folded: str) -> None:
    assert fold_to_ascii(text) == folded


def test_login_parts_keep_only_safe_characters() -> None:
    assert login_part("von Essen") == "vonessen"
    assert login_part("O'Neil-Åberg") == "oneil-aberg"
    assert login_part("*)(uid=*") == "uid"


@pytest.mark.parametrize(
    ("dn_a", "dn_b"),
    [
        (
            r"CN=Anna\, Boss,OU=People,DC=example,DC=test",
            r"cn=anna\2C boss, ou=people,dc=example,dc=test",
        ),
        ("CN=Line\\0Abreak,DC=x", "CN=Line\\\nbreak,DC=x"),
        (r"CN=\#hash,DC=x", r"CN=\23hash,DC=x"),
        ("CN=Åsa,DC=x", "CN=\\C3\\85sa,DC=x"),
    ],
)
def test_dns_that_differ_only_in_spelling_compare_equal(dn_a: str, dn_b: str) -> None:
    assert normalise_dn(dn_a) == normalise_dn(dn_b)


def test_different_dns_compare_different() -> None:
    assert normalise_dn(r"CN=A\,B,DC=x") != normalise_dn("CN=A,CN=B,DC=x")
    assert normalise_dn(r"CN=trail\ ,DC=x") != normalise_dn("CN=trail,DC=x")


def test_parent_of_skips_escaped_commas() -> None:
    assert parent_of(r"CN=Boss\, Anna,OU=People,DC=x") == "OU=People,DC=x"


@given(st.text())
def test_escaping_round_trips(value: str) -> None:
    escaped = escape_dn_value(value)
    assert unescape_dn_value(escaped) == value
    assert parent_of(f"CN={escaped},DC=x") == "DC=x"
