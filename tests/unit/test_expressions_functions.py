"""The mapping language's functions: an example or more for each, Swedish names, hostile values,
and properties against plain Python."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.mapping.expressions import (
    EvaluationContext,
    EvaluationError,
    evaluate,
    parse,
)
from hrsync.mapping.expressions.context import Evaluated
from hrsync.mapping.expressions.values import Result

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2025, 3, 1, 8, 30, tzinfo=STOCKHOLM)
ANNA = {
    "given_name": "Anna",
    "family_name": "Berg",
    "email": None,
    "city": "Lund",
    "country": "SE",
    "start_date": "2025-01-31",
    "is_external": "false",
    "org.Department": "Sales",
    "custom.Kostnadsställe": "4711",
}


def run(text: str, fields: Mapping[str, str | None] = ANNA, **context: object) -> Evaluated:
    return evaluate(parse(text), EvaluationContext(fields=fields, now=NOW, **context))  # type: ignore[arg-type]


def value(text: str, fields: Mapping[str, str | None] = ANNA) -> Result:
    return run(text, fields).value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Join(" ", [given_name], [family_name])', "Anna Berg"),
        ('Join(", ", "", [family_name], [email], [given_name])', "Berg, Anna"),
        ('Join("", [email])', None),
        ('Join("-", Split("a,b", ","), "c")', "a-b-c"),
        ('Join("", "ID", 1000)', "ID1000"),
        ('Append([given_name], ".test")', "Anna.test"),
        ('Switch([city], "OU=Other", "Lund", "OU=Lund", "Malmö", "OU=Malmo")', "OU=Lund"),
        ('Switch([country], "OU=Other", "Lund", "OU=Lund")', "OU=Other"),
        ('Switch([email], "present", "", "empty")', "empty"),
        ('Switch([city], , "x", "y")', None),
        ('Switch([city], "?", "lund", "case matters")', "?"),
        ('IIF([country] = "SE", "Sverige", "Utland")', "Sverige"),
        ('IIF([country] <> "SE", "Utland", "Sverige")', "Sverige"),
        ('IIF([is_external], "Extern", "Intern")', "Intern"),
        ('IIF(IsPresent([email]), [email], "no mail")', "no mail"),
        ('IIF([custom.Kostnadsställe] > 999, "big", "small")', "big"),
        ('IIF("9" < "10", "numbers", "text")', "numbers"),
        ('IIF("b" > "a", "yes", "no")', "yes"),
        ('IIF(Not(IsNullOrEmpty([city])), "yes", "no")', "yes"),
        ('Coalesce([email], [custom.PrivateMail], "none@example.test")', "none@example.test"),
        ("Coalesce([email], [city])", "Lund"),
        ("Coalesce([email])", None),
        ("IsPresent([email])", "False"),
        ('IsPresent("")', "False"),
        ("IsPresent([city])", "True"),
        ("IsNullOrEmpty([custom.Missing])", "True"),
        ('Left("John Doe", 3)', "Joh"),
        ('Left("John", 0)', ""),
        ('Left("John", -1)', "John"),
        ('Left("John", 10)', "John"),
        ("Left([email], 2)", None),
        ('Right("John Doe", 3)', "Doe"),
        ('Right("Doe", 5)', "Doe"),
        ('Mid("Jörgen", 2, 3)', "örg"),
        ('Mid("Jörgen", 5, 10)', "en"),
        ('Mid("Jörgen", 10, 1)', ""),
        ('Trim("  Anna \t\n")', "Anna"),  # a real tab and line break inside the quotes
        ('Trim("Anna\\t")', "Anna\\t"),  # \t is not an escape: a backslash and a t
        ('Replace("Product Developer", "Developer", "Engineer")', "Product Engineer"),
        ('ToLower("ÅSA ÖBERG")', "åsa öberg"),
        ('ToUpper("åsa öberg")', "ÅSA ÖBERG"),
        ('ProperCase("ANNA-KARIN O\'BRIEN")', "Anna-Karin O'Brien"),
        ('ProperCase("PINTO-DE\'SILVA", " \'-")', "Pinto-De'Silva"),
        ('PCase("åsa öberg")', "Åsa Öberg"),
        ('StripSpaces(" van der Berg ")', "vanderBerg"),
        ('Split("a, b,,c", ",")', ("a", " b", "", "c")),
        ('Item(Split("a,b,c", ","), 3)', "c"),
        ('Item(Split("a,b,c", ","), 4)', None),
        ('Item("only", 1)', "only"),
        ('AppendNumber("anna.berg", 2)', "anna.berg2"),
        ('AppendNumber("anna.berg", 2, 4)', ("anna.berg2", "anna.berg3", "anna.berg4")),
        ('AppendNumber("", 2)', None),
        ("[custom.kostnadsställe]", "4711"),
        ("[org.DEPARTMENT]", "Sales"),
        ("[manager_id]", None),
    ],
)
def test_function_examples(text: str, expected: Result) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("given_name", "family_name", "login"),
    [
        ("Åsa", "Öberg", "asa.oberg"),
        ("Björn", "Ärlig", "bjorn.arlig"),
        ("Jörgen", "Sæther", "jorgen.saether"),
        ("Søren", "Ødegård", "soren.odegard"),
        ("Renée", "Müller", "renee.muller"),
        ("Anna Karin", "von Essen", "annakarin.vonessen"),
    ],
)
def test_swedish_and_nordic_names_become_logins(
    given_name: str, family_name: str, login: str
) -> None:
    expression = 'ToLower(NormalizeDiacritics(StripSpaces(Join(".", [given_name], [family_name]))))'
    assert value(expression, {"given_name": given_name, "family_name": family_name}) == login


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Åsa Öberg", "Asa Oberg"),
        ("ÆRØ", "AeRO"),
        ("Zoë Čapek", "Zoe Capek"),
        ("Straße", "Strasse"),
        ("A\u030asa", "Asa"),  # decomposed Å
        ("李 Ωmega", "李 Ωmega"),  # no ASCII form: kept, the target escapes it
    ],
)
def test_normalize_diacritics(name: str, normalized: str) -> None:
    assert value("NormalizeDiacritics([given_name])", {"given_name": name}) == normalized


def test_the_diacritics_table_is_configurable() -> None:
    german = {"ä": "ae", "ö": "oe", "ü": "ue", "å": "aa"}
    fields = {"given_name": "Jürgen Håkansson Öst"}
    evaluated = run("NormalizeDiacritics([given_name])", fields, diacritics=german)
    assert evaluated.value == "Juergen Haakansson Ost"  # Ö is not in the table: folded as usual


@pytest.mark.parametrize(
    "hostile",
    [
        "*)(uid=*))(|(uid=*",
        "CN=Evil,OU=Admins\\,DC=x",
        "a+b=c;d<e>f#g",
        "\x00\x07\x1b[31m\x7f",
        "tab\there\r\nnewline",
        "\u202eevil\u200b",
        '"; DROP TABLE people; --',
        "{{ 7*7 }} ${jndi:ldap://x}",
    ],
)
def test_hostile_values_pass_through_unchanged(hostile: str) -> None:
    fields = {"given_name": hostile}
    assert value("[given_name]", fields) == hostile
    assert value('Join("", [given_name])', fields) == hostile
    assert value("NormalizeDiacritics([given_name])", fields) == hostile
    assert value('Replace([given_name], "\u2603", "x")', fields) == hostile


def test_control_characters_survive_trim_and_are_not_white_space() -> None:
    assert value("Trim([given_name])", {"given_name": " \x1cname\x1f "}) == "\x1cname\x1f"


def test_switch_on_a_condition_and_empty_sources() -> None:
    assert value('Switch(IsPresent([email]), "no", "True", "yes")', ANNA) == "no"
    assert value('Switch([email], "default", "", "empty")', {"email": ""}) == "empty"


@pytest.mark.parametrize(
    ("text", "function", "message"),
    [
        (
            'Left([city], "x")',
            "Left",
            'the number of characters must be a whole number, but got "x"',
        ),
        ("Left([city], [email])", "Left", "must be a whole number, but got nothing"),
        ("Mid([city], 0, 1)", "Mid", "the start position counts from 1"),
        ("Mid([city], 1, -1)", "Mid", "the length cannot be negative"),
        ('Item(Split("a", ","), 0)', "Item", "the index counts from 1"),
        ('Split([city], "")', "Split", "the delimiter is empty"),
        ('ToLower(Split("a,b", ","))', "ToLower", "expects one value but got a list of 2"),
        (
            'IIF([city], "a", "b")',
            "IIF",
            'the condition gave "Lund", which is neither true nor false',
        ),
        ('Replace([city], "", "x")', "Replace", "the text to replace is empty"),
        (
            'AppendNumber("a", 1, 5000)',
            "AppendNumber",
            "the last number must be between 1 and 1000",
        ),
    ],
)
def test_evaluation_errors_name_the_function(text: str, function: str, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        run(text)
    assert caught.value.function == function
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{function}: ")


# --- Properties -------------------------------------------------------------------------------

_NORDIC = "abcdefghijklmnopqrstuvwxyzåäöæøéüABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÆØÉÜ -'."


@given(st.text(alphabet=_NORDIC, max_size=40), st.sampled_from(["NFC", "NFD"]))
def test_normalize_diacritics_makes_nordic_names_ascii(name: str, form: str) -> None:
    fields = {"given_name": unicodedata.normalize(form, name)}  # type: ignore[arg-type]
    normalized = value("NormalizeDiacritics([given_name])", fields)
    assert isinstance(normalized, str)
    assert normalized.isascii()


@given(st.text(max_size=40), st.integers(-5, 50))
def test_left_and_right_agree_with_slicing(text: str, count: int) -> None:
    fields = {"custom.s": text, "custom.n": str(count)}
    left, right = (
        value("Left([custom.s], [custom.n])", fields),
        value("Right([custom.s], [custom.n])", fields),
    )
    if count < 0:
        assert left == right == text
    else:
        assert left == text[:count]
        assert right == (text[-count:] if count else "")


@given(st.text(max_size=40), st.integers(1, 50), st.integers(0, 50))
def test_mid_agrees_with_slicing_and_joins_with_left(text: str, start: int, length: int) -> None:
    fields = {"custom.s": text, "custom.start": str(start), "custom.length": str(length)}
    assert (
        value("Mid([custom.s], [custom.start], [custom.length])", fields)
        == text[start - 1 : start - 1 + length]
    )
    rest = value("Mid([custom.s], [custom.start], 1024)", fields)
    assert (text[: start - 1] + str(rest)) == text


@given(st.text(max_size=40))
def test_trim_and_strip_spaces(text: str) -> None:
    fields = {"custom.s": text}
    trimmed = value("Trim([custom.s])", fields)
    stripped = value("StripSpaces([custom.s])", fields)
    assert isinstance(trimmed, str) and trimmed in text
    assert trimmed == "" or not (trimmed[0].isspace() and trimmed[0] not in "\x1c\x1d\x1e\x1f")
    assert stripped == text.replace(" ", "")


@given(st.text(max_size=10), st.lists(st.one_of(st.none(), st.text(max_size=10)), max_size=4))
def test_join_skips_empty_values(separator: str, parts: list[str | None]) -> None:
    fields: dict[str, str | None] = {"custom.sep": separator}
    fields |= {f"custom.p{index}": part for index, part in enumerate(parts)}
    references = "".join(f", [custom.p{index}]" for index in range(len(parts)))
    joined = value(
        f"Join([custom.sep]{references})" if parts else "Join([custom.sep], [email])", fields
    )
    present = [part for part in parts if part]
    assert joined == (separator.join(present) if present else None)


@given(st.text(max_size=30), st.text(min_size=1, max_size=3))
def test_split_then_join_gives_the_text_back(text: str, delimiter: str) -> None:
    fields = {"custom.s": text, "custom.d": delimiter}
    assert value("Split([custom.s], [custom.d])", fields) == tuple(text.split(delimiter))
