"""docs/mapping.md stays true: every example in its tables gives the result it shows, and every
function has a section."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hrsync.mapping.expressions import EvaluationContext, evaluate, parse
from hrsync.mapping.expressions.catalog import ENTRA_ONLY, FUNCTIONS
from hrsync.mapping.expressions.person_fields import PERSON_FIELDS
from hrsync.mapping.expressions.values import Result

REFERENCE = Path(__file__).parents[2] / "docs" / "mapping.md"
# The example person of docs/mapping.md.
ASA = {
    "given_name": "Åsa",
    "family_name": "Öberg",
    "email": None,
    "phone": "+46 (40) 123 45 67",
    "city": "Malmö",
    "country": "SE",
    "start_date": "2025-01-31",
    "end_date": None,
    "is_external": "false",
    "org.Department": "Sales",
    "custom.Kostnadsställe": "4711",
}
NOW = datetime(2025, 3, 1, 8, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
_ROW = re.compile(r"^\| `(?P<expression>.+)` \| (?P<result>.+) \|$")


def _examples() -> list[tuple[str, Result]]:
    examples: list[tuple[str, Result]] = []
    in_examples = False
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line == "| expression | result |":
            in_examples = True
        elif not line.startswith("|"):
            in_examples = False
        elif in_examples and (row := _ROW.match(line)):
            examples.append((row["expression"], _result(row["result"])))
    return examples


def _result(cell: str) -> Result:
    if cell == "empty":
        return None
    parts = tuple(re.findall(r"`([^`]*)`", cell))
    return parts[0] if len(parts) == 1 else parts


EXAMPLES = _examples()


def test_the_reference_has_examples() -> None:
    assert len(EXAMPLES) > 50


@pytest.mark.parametrize(("expression", "result"), EXAMPLES)
def test_each_example_gives_the_result_shown(expression: str, result: Result) -> None:
    context = EvaluationContext(
        fields=ASA,
        now=NOW,
        target_attribute="sAMAccountName",
        is_taken=lambda attribute, value: value == "asa.oberg",
    )
    assert evaluate(parse(expression), context).value == result


def test_every_function_has_a_section_and_every_field_and_missing_entra_function_is_named() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for field in PERSON_FIELDS:
        assert f"`{field}`" in text, field
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    for name in FUNCTIONS:
        assert any(re.search(rf"\b{name}\b", heading) for heading in headings), name
    for name in ENTRA_ONLY:
        assert f"`{name}`" in text, name
