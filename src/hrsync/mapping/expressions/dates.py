"""Date functions. Dates without an offset are in the connection's time zone (that of `now`)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, tzinfo

from hrsync.mapping.expressions.arguments import Arguments
from hrsync.mapping.expressions.dotnet_formats import format_datetime, parse_datetime
from hrsync.mapping.expressions.errors import EvaluationError
from hrsync.mapping.expressions.values import Value, is_empty, shorten, text_of

_CALENDAR_INTERVALS = {"yyyy": "months", "m": "months", "ww": "days", "d": "days"}
_ELAPSED_INTERVALS = {"h": "hours", "n": "minutes", "s": "seconds"}
_INTERVALS = '"yyyy", "m", "ww", "d", "h", "n" or "s"'


def now(arguments: Arguments) -> Value:
    """Now(): the evaluation's moment in the connection's time zone."""
    return arguments.context.now


def cdate(arguments: Arguments) -> Value:
    """CDate(text): a date from ISO 8601 text, like 2025-03-01 or 2025-03-01T08:00:00+01:00."""
    return read_datetime(arguments.value(0), _zone(arguments), "CDate")


def format_date_time(arguments: Arguments) -> Value:
    """FormatDateTime(value, inputFormat, outputFormat), or Entra's four-argument form with an
    empty second argument. An empty input format, or a value that already is a date, reads the
    value as ISO 8601. The result keeps the value's own time zone."""
    styles = 1 if len(arguments) == 4 else 0
    if styles and arguments.text(1):
        raise EvaluationError(
            "date-time styles are not supported; leave the second argument empty", "FormatDateTime"
        )
    source = arguments.value(0)
    input_format, output_format = arguments.text(1 + styles), arguments.text(2 + styles)
    if not output_format:
        raise EvaluationError("the output format is empty", "FormatDateTime")
    if is_empty(source):
        return None
    if isinstance(source, datetime) or not input_format:
        moment = read_datetime(source, _zone(arguments), "FormatDateTime")
    else:
        text = text_of(source, "FormatDateTime") or ""
        moment = parse_datetime(text, input_format, _zone(arguments), arguments.context.now.date())
    return None if moment is None else format_datetime(moment, output_format)


def date_add(arguments: Arguments) -> Value:
    """DateAdd(interval, number, date): yyyy years, m months, ww weeks and d days move the
    calendar (the clock time stays, the 31st becomes the month's last day); h hours, n minutes
    and s seconds are elapsed time (across a daylight-saving change too). An empty date gives
    an empty result."""
    interval = (arguments.text(0) or "").lower()
    number = arguments.integer(1, "the number to add")
    if interval not in _CALENDAR_INTERVALS and interval not in _ELAPSED_INTERVALS:
        raise EvaluationError(f'the interval must be {_INTERVALS}, but got "{interval}"', "DateAdd")
    moment = read_datetime(arguments.value(2), _zone(arguments), "DateAdd")
    if moment is None:
        return None
    try:
        return _added(moment, interval, number)
    except (OverflowError, ValueError):
        raise EvaluationError("the result is outside the years 1 to 9999", "DateAdd") from None


def _added(moment: datetime, interval: str, number: int) -> datetime:
    if interval == "yyyy":
        return _add_months(moment, 12 * number)
    if interval == "m":
        return _add_months(moment, number)
    if interval in _CALENDAR_INTERVALS:
        return moment + timedelta(days=number * (7 if interval == "ww" else 1))
    elapsed = timedelta(**{_ELAPSED_INTERVALS[interval]: number})
    zone = moment.tzinfo
    return (moment.astimezone(UTC) + elapsed).astimezone(zone)


def _add_months(moment: datetime, months: int) -> datetime:
    years, month_index = divmod(moment.month - 1 + months, 12)
    year = moment.year + years
    last_day = calendar.monthrange(year, month_index + 1)[1] if 1 <= year <= 9999 else 31
    return moment.replace(year=year, month=month_index + 1, day=min(moment.day, last_day))


def read_datetime(value: Value, zone: tzinfo, function: str) -> datetime | None:
    """A date value as it is, ISO 8601 text read (in `zone` without an offset), empty as None."""
    if isinstance(value, datetime):
        return value
    text = text_of(value, function)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise EvaluationError(
            f'"{shorten(text)}" is not an ISO 8601 date like 2025-03-01 or '
            "2025-03-01T08:00:00+01:00; read other forms with FormatDateTime",
            function,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _zone(arguments: Arguments) -> tzinfo:
    return arguments.context.now.tzinfo or UTC
