"""Bytes of a CSV file into a header and rows with their line numbers: the encoding, separator and
quoting sniffed (or declared) and described, so the admin sees how the file was read.

A file that cannot be read as CSV at all raises CsvFileError (a SourceError): nothing of it is
recorded. Row-level trouble is left to the caller, which sets the row aside.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hrsync.domain.errors import SourceError

DELIMITERS = (";", ",", "\t")
DELIMITER_NAMES = {";": "';'", ",": "','", "\t": "tab"}
SIGNATURES = (
    (b"PK\x03\x04", "a zip archive or an Excel workbook (.xlsx): save it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls): save it as CSV"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document"),
)
"""The start of files admins upload by mistake."""


class CsvFileError(SourceError):
    """The file is not a CSV file hrsync can read; the message says why, for an admin."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """How a file was read, shown to the admin (and declared settings override the sniffing)."""

    encoding: str
    encoding_label: str
    delimiter: str
    is_quoted: bool
    line_end: str

    def describe(self) -> str:
        quoting = "quoted fields" if self.is_quoted else "no quoting"
        separator = DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))
        return f"{self.encoding_label}, {separator} separated, {quoting}, {self.line_end} lines"


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    """The file's line the row starts on (1 is the header)."""
    values: list[str]


@dataclass(frozen=True, slots=True)
class CsvText:
    dialect: Dialect
    header: list[str]
    rows: list[Row]


def read_csv(content: bytes, encoding: str = "", delimiter: str = "") -> CsvText:
    """The header and rows of a CSV file; CsvFileError when it is empty or not CSV."""
    _refuse_binary(content)
    text, codec, label = decode(content, encoding)
    text = _skip_type_line(text)
    if not text.strip():
        raise CsvFileError("the file is empty: no header and no rows")
    if "\x00" in text:
        raise CsvFileError("the file holds binary data (NUL bytes): it is not a CSV text file")
    sep = delimiter or sniff_delimiter(text)
    dialect = Dialect(codec, label, sep, '"' in text[:65536], _line_end(text))
    lines = _read_rows(text, sep)
    header = next(lines, None)
    if header is None or not any(v.strip() for v in header.values):
        raise CsvFileError("the file has no header line")
    return CsvText(dialect, [v.strip().lstrip("\ufeff") for v in header.values], list(lines))


def decode(content: bytes, declared: str = "") -> tuple[str, str, str]:
    """(text, codec, label): a BOM decides; else UTF-8 when it decodes, else Windows-1252
    (what Excel writes on Western European Windows), else ISO-8859-1, which takes any byte."""
    if declared:
        try:
            return content.decode(declared), declared, declared
        except UnicodeDecodeError as exc:
            raise CsvFileError(
                f"the file is not {declared} (declared): byte {exc.start} cannot be decoded"
            ) from exc
    if content.startswith(b"\xef\xbb\xbf"):
        return _decode_strict(content, "utf-8-sig", "UTF-8 with BOM")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_strict(content, "utf-16", "UTF-16")  # csvde -u
    for codec, label in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252")):
        try:
            return content.decode(codec), codec, label
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1"), "latin-1", "ISO-8859-1 (latin-1)"


def _decode_strict(content: bytes, codec: str, label: str) -> tuple[str, str, str]:
    try:
        return content.decode(codec), codec, label
    except UnicodeDecodeError as exc:
        raise CsvFileError(f"the file starts as {label} but byte {exc.start} is not") from exc


def _refuse_binary(content: bytes) -> None:
    for signature, what in SIGNATURES:
        if content.startswith(signature):
            raise CsvFileError(f"the file is not CSV: it is {what}")


def _skip_type_line(text: str) -> str:
    """Windows PowerShell's Export-Csv starts with `#TYPE …` unless -NoTypeInformation."""
    if text.startswith("#TYPE "):
        return text.partition("\n")[2]
    return text


def sniff_delimiter(text: str) -> str:
    """The separator that splits the header into the most columns and splits the next lines
    into as many (`;`, `,` or tab); `;` when nothing splits (a one-column file)."""
    sample = text[:65536].splitlines()[:20]

    def score(sep: str) -> tuple[int, int]:
        counts = [len(next(csv.reader([line], delimiter=sep), [])) for line in sample if line]
        header = counts[0] if counts else 0
        return (sum(1 for c in counts if c == header) if header > 1 else 0, header)

    return max(DELIMITERS, key=score)


def _line_end(text: str) -> str:
    first = text.find("\n")
    return "CRLF" if first > 0 and text[first - 1] == "\r" else "LF" if first >= 0 else "one"


def _read_rows(text: str, delimiter: str) -> Iterator[Row]:
    """Rows with the line each starts on; blank lines skipped. A quoted value may hold a line
    break, so a row's line is counted from where the previous one ended."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    ended = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvFileError(
                f"line {ended + 1}: the file's quoting is broken ({exc}); is a closing quote "
                "missing, or a quote inside a value not doubled?"
            ) from exc
        start, ended = ended + 1, reader.line_num
        if values and any(v.strip() for v in values):
            yield Row(start, values)


def header_problem(header: Sequence[str], delimiter: str) -> str:
    """A hint about the separator when the header did not split into the wanted columns."""
    if len(header) != 1:
        return ""
    others = [d for d in DELIMITERS if d != delimiter and d in header[0]]
    if not others:
        return ""
    return (
        f" (the header is one column: the file seems separated by "
        f"{DELIMITER_NAMES[others[0]]}, not {DELIMITER_NAMES[delimiter]})"
    )
