"""The .NET custom date and time format strings Entra's FormatDateTime takes, invariant culture.

Codes: yyyy yy, MMMM MMM MM M, dddd ddd dd d, HH H hh h, mm m, ss s, f…fffffff, F…FFFFFFF, tt,
zzz zz z, K. Text in 'single' or "double" quotes and a character after \\ are literal; so is any
other character. In a format that reads a date, a literal Z means the time is UTC
("yyyyMMddHHmmss.fZ", AD's generalized time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from hrsync.mapping.expressions.errors import EvaluationError

_CODE_LETTERS = "yMdHhmsfFtzK"
_MONTHS: tuple[str, ...] = ("January", "February", "March", "April", "May", "June", "July")
_MONTHS += ("August", "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_FRACTIONS = {letter * n for letter in "fF" for n in range(1, 8)}
_CODES = {"yyyy", "yy", "MMMM", "MMM", "MM", "M", "dddd", "ddd", "dd", "d", "HH", "H", "hh", "h"}
_CODES |= {"mm", "m", "ss", "s", "tt", "zzz", "zz", "z", "K"} | _FRACTIONS
_FUNCTION = "FormatDateTime"


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    is_code: bool


def _tokens(form: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(form):
        char = form[index]
        if char in "'\"":
            end = form.find(char, index + 1)
            if end < 0:
                raise EvaluationError(
                    f"the quote {char} in the format {form!r} is not closed", _FUNCTION
                )
            tokens.append(_Token(form[index + 1 : end], is_code=False))
            index = end + 1
        elif char == "\\":
            tokens.append(_Token(form[index + 1 : index + 2], is_code=False))
            index += 2
        elif char == "%" and index + 1 < len(form):  # "%d": the code d on its own
            tokens.append(_code(form[index + 1], form))
            index += 2
        elif char in _CODE_LETTERS:
            run = len(form[index:]) - len(form[index:].lstrip(char))
            tokens.append(_code(form[index : index + run], form))
            index += run
        else:
            tokens.append(_Token(char, is_code=False))
            index += 1
    return tokens


def _code(text: str, form: str) -> _Token:
    if text not in _CODES:
        raise EvaluationError(
            f'"{text}" in the format "{form}" is not a code hrsync knows '
            "(use yyyy, MM, dd, HH, mm, ss, f, tt or zzz)",
            _FUNCTION,
        )
    return _Token(text, is_code=True)


def format_datetime(moment: datetime, form: str) -> str:
    """`moment` written in the format, in its own time zone."""
    out: list[str] = []
    for token in _tokens(form):
        if not token.is_code:
            out.append(token.text)
            continue
        text = _formatted(moment, token.text)
        if not text and token.text[0] == "F" and out and out[-1].endswith("."):
            out[-1] = out[-1][:-1]  # .NET drops the point before an all-zero F fraction
        out.append(text)
    return "".join(out)


def _formatted(moment: datetime, code: str) -> str:
    twelve_hour = moment.hour % 12 or 12
    if code[0] in "fF":
        digits = f"{moment.microsecond:06d}0"[: len(code)]
        return digits if code[0] == "f" else digits.rstrip("0")
    if code[0] in "zK":
        return _offset(moment, code)
    fixed = {
        "yyyy": f"{moment.year:04d}",
        "yy": f"{moment.year % 100:02d}",
        "MMMM": _MONTHS[moment.month - 1],
        "MMM": _MONTHS[moment.month - 1][:3],
        "MM": f"{moment.month:02d}",
        "M": str(moment.month),
        "dddd": _DAYS[moment.weekday()],
        "ddd": _DAYS[moment.weekday()][:3],
        "dd": f"{moment.day:02d}",
        "d": str(moment.day),
        "HH": f"{moment.hour:02d}",
        "H": str(moment.hour),
        "hh": f"{twelve_hour:02d}",
        "h": str(twelve_hour),
        "mm": f"{moment.minute:02d}",
        "m": str(moment.minute),
        "ss": f"{moment.second:02d}",
        "s": str(moment.second),
        "tt": "PM" if moment.hour >= 12 else "AM",
    }
    return fixed[code]


def _offset(moment: datetime, code: str) -> str:
    offset = moment.utcoffset() or timedelta()
    if code == "K" and not offset:
        return "Z"
    sign = "-" if offset < timedelta() else "+"
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    if code == "z":
        return f"{sign}{hours}"
    return f"{sign}{hours:02d}" if code == "zz" else f"{sign}{hours:02d}:{minutes:02d}"


_PATTERNS = {
    "yyyy": r"\d{4}",
    "yy": r"\d{2}",
    "MMMM": "|".join(_MONTHS),
    "MMM": "|".join(m[:3] for m in _MONTHS),
    "dddd": "|".join(_DAYS),
    "ddd": "|".join(d[:3] for d in _DAYS),
    "tt": "AM|PM",
    "zzz": r"[+-]\d{2}:\d{2}",
    "zz": r"[+-]\d{2}",
    "z": r"[+-]\d{1,2}",
    "K": r"Z|[+-]\d{2}:\d{2}|",
}


def _pattern(code: str) -> str:
    if code in _PATTERNS:
        return _PATTERNS[code]
    if code[0] == "f":
        return rf"\d{{{len(code)}}}"
    if code[0] == "F":
        return rf"\d{{0,{len(code)}}}"
    return r"\d{2}" if len(code) == 2 else r"\d{1,2}"


def parse_datetime(text: str, form: str, zone: tzinfo, today: date) -> datetime:
    """Read `text` written in the format. Without an offset or literal Z it is in `zone`;
    without a date it is `today`; a missing year is today's, a missing month or day is 1."""
    tokens = _tokens(form)
    codes = [token.text for token in tokens if token.is_code]
    regex = "".join(
        f"({_pattern(token.text)})" if token.is_code else re.escape(token.text) for token in tokens
    )
    found = re.fullmatch(rf"\s*{regex}\s*", text, re.IGNORECASE)
    if found is None:
        raise EvaluationError(f'"{text}" does not have the format "{form}"', _FUNCTION)
    is_utc = any(not token.is_code and "Z" in token.text for token in tokens)
    parts = dict(zip(codes, found.groups(), strict=True))
    try:
        return _assembled(parts, UTC if is_utc else zone, today)
    except ValueError:
        raise EvaluationError(
            f'"{text}" is not a valid date for the format "{form}"', _FUNCTION
        ) from None


def _assembled(parts: dict[str, str], zone: tzinfo, today: date) -> datetime:
    has_date = any(code[0] in "yMd" for code in parts)
    day = date(today.year, 1, 1) if has_date else today
    values = {"year": day.year, "month": day.month, "day": day.day}
    values |= {"hour": 0, "minute": 0, "second": 0, "microsecond": 0}
    for code, text in parts.items():
        _read_part(code, text, values)
    if (meridiem := parts.get("tt")) is not None:
        values["hour"] = values["hour"] % 12 + (12 if meridiem.upper() == "PM" else 0)
    offset = next((_read_offset(t) for c, t in parts.items() if c[0] in "zK" and t), None)
    return datetime(**values, tzinfo=offset or zone)


def _read_part(code: str, text: str, values: dict[str, int]) -> None:
    letter = code[0]
    if letter == "y":
        year = int(text)
        values["year"] = year if code == "yyyy" else year + (2000 if year < 50 else 1900)
    elif code in ("MMMM", "MMM"):
        values["month"] = [m[: len(text)].lower() for m in _MONTHS].index(text.lower()) + 1
    elif letter in "Md" and len(code) <= 2:
        values["month" if letter == "M" else "day"] = int(text)
    elif letter in "Hh":
        values["hour"] = int(text)
    elif letter in "ms":
        values["minute" if letter == "m" else "second"] = int(text)
    elif letter in "fF" and text:
        values["microsecond"] = int(text.ljust(6, "0")[:6])


def _read_offset(text: str) -> tzinfo:
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, _, minutes = text[1:].partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
