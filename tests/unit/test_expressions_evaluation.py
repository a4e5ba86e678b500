"""Evaluating expressions: lineage (fields read, choices taken), SelectUniqueValue against a
target, Replace with patterns and a time limit, value bounds, and that any expression on any
person fails only with EvaluationError."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrsync.mapping.expressions import (
    Call,
    Comparison,
    Evaluated,
    EvaluationContext,
    EvaluationError,
    Expression,
    Field,
    evaluate,
    parse,
)
from hrsync.mapping.expressions.limits import MAX_VALUE_LENGTH
from hrsync.mapping.expressions.person_fields import PERSON_FIELDS
from tests.unit.test_expressions_parser import expressions

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
ANNA = {"given_name": "Anna", "family_name": "Berg", "email": None, "org.Department": "Sales"}
OU_BY_DEPARTMENT = (
    'Switch([org.Department], "OU=Staff,DC=example,DC=test", '
    '"Sales", "OU=Sales,DC=example,DC=test", "IT", Join(",", "OU=IT", [custom.Site]))'
)


def run(text: str, fields: Mapping[str, str | None] = ANNA, **context: object) -> Evaluated:
    return evaluate(parse(text), EvaluationContext(fields=fields, now=NOW, **context))  # type: ignore[arg-type]


def test_lineage_answers_why_anna_is_in_ou_sales() -> None:
    evaluated = run(OU_BY_DEPARTMENT)
    assert evaluated.value == "OU=Sales,DC=example,DC=test"
    assert evaluated.fields_read == {"org.Department"}  # the IT branch's [custom.Site] is not read
    assert evaluated.steps == (
        'Switch: [org.Department] is "Sales", which matches the key "Sales"',
    )


def test_lineage_of_a_default_branch() -> None:
    evaluated = run(OU_BY_DEPARTMENT, {"org.Department": "Legal"})
    assert evaluated.value == "OU=Staff,DC=example,DC=test"
    assert evaluated.steps == (
        'Switch: [org.Department] is "Legal", which matches no key; '
        'the default "OU=Staff,DC=example,DC=test" applies',
    )


def test_lineage_of_iif_and_coalesce() -> None:
    evaluated = run(
        "IIF(IsPresent([email]), [email], Coalesce([custom.PrivateMail], [given_name]))"
    )
    assert evaluated.value == "Anna"
    assert evaluated.fields_read == {"email", "custom.PrivateMail", "given_name"}
    assert evaluated.steps == (
        "IIF: IsPresent([email]) is false",
        "Coalesce: took argument 2, [given_name]",
    )


def test_fields_read_include_missing_ones() -> None:
    evaluated = run('Join(" ", [given_name], [custom.Nickname])')
    assert evaluated.value == "Anna"
    assert evaluated.fields_read == {"given_name", "custom.Nickname"}


LOGIN = 'ToLower(NormalizeDiacritics(Join(".", [given_name], [family_name])))'
UNIQUE_LOGIN = f"SelectUniqueValue({LOGIN}, AppendNumber({LOGIN}, 2, 9))"


def test_select_unique_value_takes_the_first_free_candidate() -> None:
    asked: list[tuple[str, str]] = []

    def is_taken(attribute: str, candidate: str) -> bool:
        asked.append((attribute, candidate))
        return candidate in {"asa.oberg", "asa.oberg2"}

    evaluated = run(
        UNIQUE_LOGIN,
        {"given_name": "Åsa", "family_name": "Öberg"},
        target_attribute="sAMAccountName",
        is_taken=is_taken,
    )
    assert evaluated.value == "asa.oberg3"
    assert asked == [
        ("sAMAccountName", "asa.oberg"),
        ("sAMAccountName", "asa.oberg2"),
        ("sAMAccountName", "asa.oberg3"),
    ]
    assert evaluated.steps == (
        'SelectUniqueValue: "asa.oberg" is taken',
        'SelectUniqueValue: "asa.oberg2" is taken',
        'SelectUniqueValue: chose "asa.oberg3" (argument 2)',
    )


def test_select_unique_value_skips_empty_candidates_and_fails_when_all_are_taken() -> None:
    evaluated = run('SelectUniqueValue([email], "anna")')
    assert evaluated.value == "anna"
    assert evaluated.steps[0] == "SelectUniqueValue: candidate 1 is empty"
    with pytest.raises(
        EvaluationError,
        match=r'every candidate is taken \("anna\.berg", "anna\.berg2", .*"anna\.berg5", …\)',
    ):
        run(UNIQUE_LOGIN, is_taken=lambda attribute, candidate: True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Replace("john.doe@contoso.com", "@contoso.com", , , "", , )', "john.doe"),
        ('Replace("jsmith", "<username>", , , , , "<username>@contoso.com")', "jsmith@contoso.com"),
        ('Replace("+1 (999) 888-7777", , "[()\\\\s-]+", , "", , )', "+19998887777"),
        (
            'Replace("+91 9998887777", , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , '
            '"${phoneNumber}", , )',
            "9998887777",
        ),
        (
            'Replace("545 Tremont Street", , "(?<streetNumber>^\\\\d*)", "streetNumber", '
            '"888", , )',
            "888 Tremont Street",
        ),
        ('Replace("jsmith@contoso.com", , "(?<Suffix>@(.)*)", "Suffix", "", , )', "jsmith"),
        (
            'Replace([email], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", '
            '"phoneNumber", , "+91 8887779999", )',
            "8887779999",
        ),
        ('Replace("john_doe72", , "[a-zA-Z_]*", , "", , )', "72"),
        (
            'Replace("Berg, Anna", , "(\\\\w+), (\\\\w+)", , "$2 $1 costs $$5 ($&)", , )',
            "Anna Berg costs $5 (Berg, Anna)",
        ),
        ('Replace("abc", , "b", , "${nope}", , )', "a${nope}c"),
        ('Replace([email], "a", "b")', None),
    ],
)
def test_replace_forms(text: str, expected: str | None) -> None:
    assert run(text).value == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('Replace("abc", , "(", , "", , )', '"(" is not a valid pattern'),
        ('Replace("abc", , "b", "nope", "x", , )', 'the pattern has no group named "nope"'),
        ('Replace("abc", , "", , "x", , )', "the pattern is empty"),
        ('Replace([custom.Long], "a", "aaaa")', "the result would be longer than 1,024 characters"),
        (
            'Replace([custom.Long], , "a", , "aaaa", , )',
            "the result would be longer than 1,024 characters",
        ),
    ],
)
def test_replace_errors(text: str, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        run(text, {"custom.Long": "a" * 1000})
    assert caught.value.function == "Replace"
    assert message in caught.value.message


def test_a_catastrophic_pattern_is_stopped_by_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(EvaluationError, match=r"the pattern took longer than 0\.25 seconds"):
        run('Replace([custom.s], , "(a|aa)+$", , "x", , )', {"custom.s": "a" * 1000 + "!"})
    assert time.monotonic() - started < 5


def test_values_are_bounded() -> None:
    at_limit = {"custom.s": "x" * MAX_VALUE_LENGTH}
    assert run("[custom.s]", at_limit).value == "x" * MAX_VALUE_LENGTH
    with pytest.raises(EvaluationError, match=r"\[custom.s\] holds 1,025 characters"):
        run("[custom.s]", {"custom.s": "x" * (MAX_VALUE_LENGTH + 1)})
    with pytest.raises(EvaluationError, match="Join: the result is longer than 1,024 characters"):
        run('Join("", [custom.s], "y")', at_limit)
    with pytest.raises(EvaluationError, match="ToUpper: the result is longer"):
        run("ToUpper([custom.s])", {"custom.s": "ß" * 600})  # ß upper-cases to SS


def test_a_hand_built_tree_with_an_unknown_function_fails_cleanly() -> None:
    tree: Expression = Call("Eval", (Field("given_name"),))
    with pytest.raises(EvaluationError, match="Eval: there is no such function"):
        evaluate(tree, EvaluationContext(fields=ANNA, now=NOW))


def test_the_context_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        EvaluationContext(fields={}, now=datetime(2025, 3, 1))


# --- Property: any expression, any person ------------------------------------------------------

_FIELD_NAMES = [*PERSON_FIELDS, "org.Department", "custom.Site"]
_field_values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(["2025-03-01", "20150123105347.1Z", "12", "-3", "true", "a,b", "(a|aa)+$"]),
    st.text(max_size=MAX_VALUE_LENGTH + 2, min_size=MAX_VALUE_LENGTH - 2),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.dictionaries(st.sampled_from(_FIELD_NAMES), _field_values), st.booleans())
def test_evaluation_fails_only_with_evaluation_error(
    expression: Expression, fields: dict[str, str | None], everything_taken: bool
) -> None:
    context = EvaluationContext(fields=fields, now=NOW, is_taken=lambda a, v: everything_taken)
    try:
        evaluated = evaluate(expression, context)
    except EvaluationError as error:
        assert error.message
    else:
        assert evaluated.fields_read <= _field_names_in(expression)
        values = evaluated.value if isinstance(evaluated.value, tuple) else (evaluated.value,)
        assert all(v is None or len(v) <= MAX_VALUE_LENGTH for v in values)


def _field_names_in(expression: Expression) -> set[str]:
    match expression:
        case Field(name):
            return {name}
        case Call(_, arguments):
            return set().union(*map(_field_names_in, arguments))
        case Comparison(_, left, right):
            return _field_names_in(left) | _field_names_in(right)
        case _:
            return set()


_SAMPLES = [
    OU_BY_DEPARTMENT,
    UNIQUE_LOGIN,
    'ProperCase(Trim(StripSpaces([given_name])), " -")',
    "Left([given_name], 1)",
    "Mid([family_name], 2, 3)",
    "Right([family_name], 2)",
    'Item(Split([custom.Site], ","), 2)',
    'FormatDateTime([start_date], "yyyy-MM-dd", "yyyyMMdd")',
    'DateAdd("d", [custom.Site], [end_date])',
    'IIF([end_date] < Now(), "ended", "active")',
    'IIF([custom.Site] >= 10, "big", "small")',
    'Replace([given_name], , [custom.Site], , "x", , )',
    'Replace([given_name], [custom.Site], "x")',
    "ToUpper(NormalizeDiacritics(Coalesce([email], [given_name])))",
]


@settings(deadline=None)
@given(st.sampled_from(_SAMPLES), st.dictionaries(st.sampled_from(_FIELD_NAMES), _field_values))
def test_sample_mappings_fail_only_with_evaluation_error_on_any_person(
    text: str, fields: dict[str, str | None]
) -> None:
    try:
        run(text, fields)
    except EvaluationError as error:
        assert error.message
