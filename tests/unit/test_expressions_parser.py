"""The mapping language's parser: trees, escapes, plain-language errors with positions, bounds,
and the round trip parse(format_expression(e)) == e."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrsync.mapping.expressions import (
    Call,
    Comparison,
    Expression,
    ExpressionError,
    Field,
    Number,
    Omitted,
    Text,
    format_expression,
    parse,
)
from hrsync.mapping.expressions.catalog import FUNCTIONS, arity_problem
from hrsync.mapping.expressions.limits import (
    MAX_EXPRESSION_LENGTH,
    MAX_NESTING_DEPTH,
    MAX_VALUE_LENGTH,
)
from hrsync.mapping.expressions.nodes import COMPARISON_OPERATORS
from hrsync.mapping.expressions.person_fields import PERSON_FIELDS


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("[given_name]", Field("given_name")),
        ('"Sales"', Text("Sales")),
        ("-10", Number(-10)),
        ("Left([given_name], 1)", Call("Left", (Field("given_name"), Number(1)))),
        ("Now()", Call("Now", ())),
        ("toLower( [city] )", Call("ToLower", (Field("city"),))),
        ('PCase("anna")', Call("ProperCase", (Text("anna"),))),
        ("[ Org.Department ]", Field("org.Department")),
        ("[custom.Kostnadsställe]", Field("custom.Kostnadsställe")),
        ('[country] <> "SE"', Comparison("<>", Field("country"), Text("SE"))),
        (
            'Switch([city], , "Lund", "OU=Lund")',
            Call("Switch", (Field("city"), Omitted(), Text("Lund"), Text("OU=Lund"))),
        ),
        (
            'Join(" ",\n  [given_name],\n  [family_name])',
            Call("Join", (Text(" "), Field("given_name"), Field("family_name"))),
        ),
        (
            'IIF([is_external] = "true", "Extern", "Intern")',
            Call(
                "IIF",
                (
                    Comparison("=", Field("is_external"), Text("true")),
                    Text("Extern"),
                    Text("Intern"),
                ),
            ),
        ),
    ],
)
def test_parses_into_trees(text: str, tree: Expression) -> None:
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ('"a ""quoted"" word"', 'a "quoted" word'),
        ('"Company name: \\"Contoso\\""', 'Company name: "Contoso"'),  # Entra's backslash form
        ('"\\\\d{10}"', "\\d{10}"),  # Entra writes a regex \d as \\d
        ('"\\d{10}"', "\\d{10}"),  # a lone backslash before anything else stays
        ('"C:\\Users"', "C:\\Users"),
        ('""', ""),
        ('""""', '"'),
        ('"line\nbreak"', "line\nbreak"),
        ('"*)(uid=*)"', "*)(uid=*)"),
    ],
)
def test_string_literals_unescape(literal: str, value: str) -> None:
    assert parse(literal) == Text(value)


@pytest.mark.parametrize(
    ("tree", "text"),
    [
        (Call("Left", (Field("given_name"), Number(1))), "Left([given_name], 1)"),
        (Text('say "hi" \\o/'), '"say ""hi"" \\\\o/"'),
        (
            Call("Switch", (Field("city"), Omitted(), Text("a"), Text("b"))),
            'Switch([city], , "a", "b")',
        ),
        (Comparison(">=", Number(5), Number(-3)), "5 >= -3"),
    ],
)
def test_formats_canonical_text(tree: Expression, text: str) -> None:
    assert format_expression(tree) == text


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            'Join(" ", [givenName, [sn])',
            1,
            21,
            "a closing bracket ] is missing after [givenName",
        ),
        ("Lft([given_name], 1)", 1, 1, "unknown function 'Lft' — did you mean Left?"),
        (
            'Switch([city], "a", "b", "c", "d")',
            1,
            1,
            "Switch needs an odd number of arguments after the value",
        ),
        ('Switch([city], "a", "b")', 1, 1, "Switch takes at least 4 arguments"),
        ("Left([given_name])", 1, 1, "Left takes 2 arguments — Left(value, count) — but has 1"),
        ("Now(1)", 1, 1, "Now takes no arguments"),
        ("Mid([city], 1)", 1, 1, "Mid takes 3 arguments"),
        ("[givenName]", 1, 1, "unknown field [givenName] — did you mean [given_name]?"),
        ("[sn]", 1, 1, "did you mean [family_name]?"),
        ("[]", 1, 1, "a field name is missing between [ and ]"),
        ("[org.]", 1, 1, "name the organisation level after org."),
        ('Join(" " [given_name])', 1, 10, "a comma is missing before [given_name]"),
        ("[given_name] [family_name]", 1, 14, "[family_name] follows the end of the expression"),
        ('"abc', 1, 1, 'this text has no closing quote "'),
        ("'abc'", 1, 1, "text goes in double quotes"),
        ("Left([given_name], 1", 1, 21, "a closing parenthesis ) is missing at the end"),
        ("[city] = ", 1, 9, "a value is missing after ="),
        ('= "x"', 1, 1, "a value is missing before ="),
        ('[city] = "a" = "b"', 1, 14, "only one comparison at a time"),
        (")", 1, 1, "there is a ) without a matching ("),
        ('("x")', 1, 1, "( must follow a function name"),
        ("given_name", 1, 1, "'given_name' is not a function; a field is written in brackets"),
        ("Left", 1, 1, "Left must be followed by ("),
        ('[city] & "x"', 1, 8, "& does not join values here"),
        ('[city] != "x"', 1, 8, "write 'not equal' as <>"),
        (
            'Word("a b", 1, " ")',
            1,
            1,
            "Word is a Microsoft Entra function that hrsync does not offer",
        ),
        ('"a", "b"', 1, 4, "a comma outside a function's parentheses"),
        ('Left("x", 1.5)', 1, 12, "numbers are whole numbers"),
        ("\x07", 1, 1, "the character U+0007 cannot be used here"),
        ("   ", 1, 1, "the expression is empty"),
        ('Join("",\n  [given_name],\n  [family_nam])', 3, 3, "did you mean [family_name]?"),
        ('Replace([city], "a", , , , , )', 1, 1, "Replace needs either Replace(value, old, new)"),
        (
            'ToLower(SelectUniqueValue("a", "b"))',
            1,
            9,
            "SelectUniqueValue must be the whole expression",
        ),
        ('__import__("os").system("id")', 1, 1, "the character '_' cannot be used here"),
    ],
)
def test_errors_point_at_line_and_column_in_plain_words(
    text: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert message in caught.value.message
    assert str(caught.value).startswith(f"line {line}, column {column}: ")


def test_an_expression_longer_than_the_limit_is_refused() -> None:
    longest = '"' + "x" * (MAX_EXPRESSION_LENGTH - 2) + '"'
    with pytest.raises(ExpressionError, match="text in quotes is limited"):
        parse(longest)  # within the text limit, but the literal is over the value limit
    with pytest.raises(ExpressionError, match="the limit is 4,000") as caught:
        parse(longest + " ")
    assert caught.value.column == MAX_EXPRESSION_LENGTH + 1


def test_nesting_is_bounded() -> None:
    def nested(depth: int) -> str:
        return "ToLower(" * depth + "[city]" + ")" * depth

    assert parse(nested(MAX_NESTING_DEPTH)) is not None
    with pytest.raises(ExpressionError, match="nested more than 32 deep"):
        parse(nested(MAX_NESTING_DEPTH + 1))
    with pytest.raises(ExpressionError, match="nested more than 32 deep"):
        parse(nested(1_000)[:MAX_EXPRESSION_LENGTH])  # deep enough to break naive recursion


def test_literals_are_bounded() -> None:
    assert parse('"' + "x" * MAX_VALUE_LENGTH + '"') == Text("x" * MAX_VALUE_LENGTH)
    with pytest.raises(ExpressionError, match="limited to 1,024 characters; this has 1,025"):
        parse('"' + "x" * (MAX_VALUE_LENGTH + 1) + '"')
    with pytest.raises(ExpressionError, match="at most 9 digits"):
        parse("Left([city], 1234567890)")


# --- Properties -------------------------------------------------------------------------------

_NAME = r"[A-Za-z0-9ÅÄÖåäö_-]([A-Za-z0-9ÅÄÖåäö _.-]{0,8}[A-Za-z0-9ÅÄÖåäö_-])?"
_leaves: st.SearchStrategy[Expression] = st.one_of(
    st.sampled_from(PERSON_FIELDS).map(Field),
    st.from_regex(rf"(org|custom)\.{_NAME}", fullmatch=True).map(Field),
    st.text(max_size=12).map(Text),
    st.integers(-999_999_999, 999_999_999).map(Number),
)
_NESTABLE = sorted(name for name in FUNCTIONS if not FUNCTIONS[name].is_whole_expression_only)


def _is_valid_call(call: Call) -> bool:
    signature = FUNCTIONS[call.function]
    if call.arguments == (Omitted(),) or arity_problem(call.function, len(call.arguments)):
        return False
    return not (signature.problem and signature.problem(call.arguments))


def _calls(
    arguments: st.SearchStrategy[Expression], names: list[str]
) -> st.SearchStrategy[Expression]:
    def with_arguments(name: str) -> st.SearchStrategy[Expression]:
        low = FUNCTIONS[name].min_arguments
        high = FUNCTIONS[name].max_arguments or low + 3
        return st.lists(arguments, min_size=low, max_size=high).map(
            lambda values: Call(name, tuple(values))
        )

    return (
        st.sampled_from(names)
        .flatmap(with_arguments)
        .filter(lambda call: isinstance(call, Call) and _is_valid_call(call))
    )


def _extend(children: st.SearchStrategy[Expression]) -> st.SearchStrategy[Expression]:
    operands = children.filter(lambda node: not isinstance(node, Comparison))
    comparisons = st.builds(Comparison, st.sampled_from(COMPARISON_OPERATORS), operands, operands)
    return st.one_of(_calls(st.one_of(children, st.just(Omitted())), _NESTABLE), comparisons)


nested_expressions = st.recursive(_leaves, _extend, max_leaves=12)
expressions = st.one_of(
    nested_expressions,
    _calls(nested_expressions.filter(lambda n: not isinstance(n, Omitted)), ["SelectUniqueValue"]),
)


@settings(max_examples=300)
@given(expressions)
def test_format_then_parse_gives_the_same_tree(expression: Expression) -> None:
    assert parse(format_expression(expression)) == expression


_SYNTAX = [*'[]"(),=<>-\\ \n\t.', "Left", "Join", "Switch", "[city]", '"x"', "1", "Now"]


@settings(max_examples=300)
@given(
    st.one_of(st.text(max_size=60), st.lists(st.sampled_from(_SYNTAX), max_size=30).map("".join))
)
def test_any_text_parses_or_raises_expression_error(text: str) -> None:
    try:
        expression = parse(text)
    except ExpressionError as error:
        assert error.line >= 1
        assert error.column >= 1
    else:
        assert parse(format_expression(expression)) == expression
