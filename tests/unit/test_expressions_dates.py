"""Date functions of the mapping language: .NET format codes, DateAdd's calendar and clock
arithmetic, Now in the connection's zone, comparisons with dates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync.mapping.expressions import EvaluationContext, EvaluationError, evaluate, parse
from hrsync.mapping.expressions.values import Result

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2025, 3, 1, 8, 30, 15, 250_000, tzinfo=STOCKHOLM)


def value(text: str, **fields: str | None) -> Result:
    return evaluate(parse(text), EvaluationContext(fields=fields, now=NOW)).value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Entra's example: AD generalized time; a literal Z means UTC.
        ('FormatDateTime("20150123105347.1Z", , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")', "2015-01-23"),
        ('FormatDateTime("20150123105347.1Z", "yyyyMMddHHmmss.fZ", "HH:mm K")', "10:53 Z"),
        ('FormatDateTime("2025-03-01", "yyyy-MM-dd", "dd.MM.yyyy")', "01.03.2025"),
        ('FormatDateTime("2025-03-01", "", "d MMMM yyyy, dddd")', "1 March 2025, Saturday"),
        (
            'FormatDateTime("3/16/2012 7:00:00 PM", "M/d/yyyy h:mm:ss tt", '
            '"yyyy-MM-ddTHH:mm:sszzz")',
            "2012-03-16T19:00:00+01:00",
        ),
        ('FormatDateTime("16 Mar 12", "dd MMM yy", "yyyy-MM-dd")', "2012-03-16"),
        ('FormatDateTime("2025-07-01T10:00:00+02:00", "", "HH zz z")', "10 +02 +2"),
        ('FormatDateTime(Now(), , "yyyy-MM-dd HH:mm:ss.fff")', "2025-03-01 08:30:15.250"),
        (
            'FormatDateTime("2025-03-01 08:00:00.5", "yyyy-MM-dd HH:mm:ss.FFF", "ss.FFF|ss.FF")',
            "00.5|00.5",
        ),
        ('FormatDateTime("2025-03-01 08:00:00", "yyyy-MM-dd HH:mm:ss", "ss.FFF")', "00"),
        ('FormatDateTime("2025-03-01", "yyyy-MM-dd", "\'year\' yyyy \\\\d")', "year 2025 d"),
        ('FormatDateTime([end_date], "yyyy-MM-dd", "yyyyMMdd")', None),
    ],
)
def test_format_date_time(text: str, expected: str | None) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'FormatDateTime("2025-13-01", "yyyy-MM-dd", "yyyy")',
            'is not a valid date for the format "yyyy-MM-dd"',
        ),
        (
            'FormatDateTime("1 March", "yyyy-MM-dd", "yyyy")',
            'does not have the format "yyyy-MM-dd"',
        ),
        (
            'FormatDateTime("2025", "yyy", "yyyy")',
            '"yyy" in the format "yyy" is not a code hrsync knows',
        ),
        ('FormatDateTime("2025", "yyyy", "\'open")', "is not closed"),
        ('FormatDateTime("2025", "yyyy", "")', "the output format is empty"),
        (
            'FormatDateTime("2025", "RoundtripKind", "yyyy", "yyyy")',
            "date-time styles are not supported",
        ),
        ('FormatDateTime("1 March", "", "yyyy")', '"1 March" is not an ISO 8601 date'),
    ],
)
def test_format_date_time_errors(text: str, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        value(text)
    assert caught.value.function == "FormatDateTime"
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('DateAdd("d", 7, "2025-03-01")', "2025-03-08T00:00:00+01:00"),
        ('DateAdd("d", -10, [start_date])', "2025-01-21T00:00:00+01:00"),
        ('DateAdd("ww", 2, "2012-03-16T07:00:00-07:00")', "2012-03-30T07:00:00-07:00"),
        ('DateAdd("m", 1, "2025-01-31")', "2025-02-28T00:00:00+01:00"),
        ('DateAdd("m", 10, "2012-03-16")', "2013-01-16T00:00:00+01:00"),
        ('DateAdd("yyyy", 1, "2024-02-29")', "2025-02-28T00:00:00+01:00"),
        ('DateAdd("YYYY", -2, "2024-06-01")', "2022-06-01T00:00:00+02:00"),
        # Calendar days keep the clock time across the spring change (30 March 2025)...
        ('DateAdd("d", 1, "2025-03-29T12:00:00")', "2025-03-30T12:00:00+02:00"),
        # ...hours are elapsed time: 01:30 + 1 h is 03:30, the hour 02:00-03:00 does not exist.
        ('DateAdd("h", 1, "2025-03-30T01:30:00")', "2025-03-30T03:30:00+02:00"),
        ('DateAdd("n", 90, "2025-03-01T08:00:00")', "2025-03-01T09:30:00+01:00"),
        ('DateAdd("s", 30, "2025-03-01T08:00:00Z")', "2025-03-01T08:00:30+00:00"),
        ('DateAdd("d", 1, [end_date])', None),
        ('DateAdd("d", 1, Now())', "2025-03-02T08:30:15+01:00"),
        ('DateAdd("d", 1, CDate("2025-03-01"))', "2025-03-02T00:00:00+01:00"),
        ("Now()", "2025-03-01T08:30:15+01:00"),
        ('CDate("2025-03-01T07:00:00-07:00")', "2025-03-01T07:00:00-07:00"),
    ],
)
def test_date_add_now_and_cdate(text: str, expected: str | None) -> None:
    assert value(text, start_date="2025-01-31", end_date=None) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'DateAdd("q", 1, "2025-01-01")',
            'the interval must be "yyyy", "m", "ww", "d", "h", "n" or "s"',
        ),
        ('DateAdd("yyyy", 9000, "2025-01-01")', "the result is outside the years 1 to 9999"),
        ('DateAdd("d", 999999999, "2025-01-01")', "the result is outside the years 1 to 9999"),
        ('DateAdd("d", "x", "2025-01-01")', "the number to add must be a whole number"),
        ('DateAdd("d", 1, "yesterday")', '"yesterday" is not an ISO 8601 date'),
    ],
)
def test_date_add_errors(text: str, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        value(text)
    assert caught.value.function == "DateAdd"
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("end_date", "status"),
    [
        ("2025-02-28", "ended"),
        ("2025-03-01T08:30:16", "active"),
        ("2026-01-01", "active"),
        (None, "active"),
    ],
)
def test_comparing_dates(end_date: str | None, status: str) -> None:
    assert value('IIF([end_date] < Now(), "ended", "active")', end_date=end_date) == status


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)))
def test_formatting_then_reading_gives_the_same_moment(moment: datetime) -> None:
    form = "yyyy-MM-dd HH:mm:ss.ffffff"
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    assert value(f'FormatDateTime("{text}", "{form}", "{form}")') == text
    assert value(f'FormatDateTime("{text}", "{form}", "yyyyMMddHHmmss")') == moment.strftime(
        "%Y%m%d%H%M%S"
    )


@given(st.integers(-30_000, 30_000), st.sampled_from(["d", "h", "n", "s", "ww"]))
def test_date_add_and_back_is_the_same_moment(number: int, interval: str) -> None:
    there = f'DateAdd("{interval}", {number}, "2025-06-15T12:00:00")'
    back = f'DateAdd("{interval}", {-number}, {there})'
    assert value(back) == "2025-06-15T12:00:00+02:00"
