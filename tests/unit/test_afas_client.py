"""The AFAS client's pure parts: the AfasToken header, filter parameters, error messages."""

from __future__ import annotations

import base64

import pytest

from hrsync.connectors.afas.client import Condition, authorization, filter_params
from hrsync.connectors.afas.errors import AfasError, describe_error


def decoded(header: str) -> str:
    scheme, _, value = header.partition(" ")
    assert scheme == "AfasToken"
    return base64.b64decode(value).decode()


@pytest.mark.parametrize(
    ("token", "xml"),
    [
        ("ABC123", "<token><version>1</version><data>ABC123</data></token>"),
        (" ABC123 ", "<token><version>1</version><data>ABC123</data></token>"),
        (
            "<token><version>1</version><data>XYZ</data></token>",
            "<token><version>1</version><data>XYZ</data></token>",
        ),
    ],
)
def test_the_token_header_wraps_the_data_in_the_xml_once(token: str, xml: str) -> None:
    assert decoded(authorization(token)) == xml


def test_filter_terms_join_with_commas_and_alternatives_with_semicolons() -> None:
    where = [
        [Condition("Mutatiedatum", 2, "2026-12-01T00:00:00"), Condition("Email_werk", 9)],
        [Condition("Medewerker", 1, "10001")],
    ]
    assert filter_params(where) == {
        "filterfieldids": "Mutatiedatum,Email_werk;Medewerker",
        "filtervalues": "2026-12-01T00:00:00,;10001",
        "operatortypes": "2,9;1",
    }
    assert filter_params([]) == {}
    assert filter_params([[]]) == {}


@pytest.mark.parametrize("value", ["a,b", "a;b"])
def test_a_value_the_wire_cannot_carry_is_refused(value: str) -> None:
    with pytest.raises(AfasError, match="cannot filter Achternaam"):
        filter_params([[Condition("Achternaam", 1, value)]])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '{"externalMessage": "Ongeldige token", "profitLogReference": "AB12"}',
            "Ongeldige token (log reference AB12)",
        ),
        ('{"externalMessage": "Geen rechten"}', "Geen rechten"),
        ("<html>\n  Bad   gateway </html>", "<html> Bad gateway </html>"),
        ("", ""),
    ],
)
def test_error_bodies_become_one_line(body: str, message: str) -> None:
    assert describe_error(body) == message
