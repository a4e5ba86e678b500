"""A CSV file as a person source: the broken-CSV corpus, each file giving the expected row
errors (line, column, reason) or the file-level error, sniffing shown to the user, hostile values
normalised or refused, and the two presets (Flexwhere, an Active Directory export)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hrsync.connectors.csv.reading import CsvFileError
from hrsync.connectors.csv.source import CsvSource, ParsedFile
from hrsync.connectors.csv.source_config import CsvSourceConfig
from hrsync.domain.person import InvalidRecord, Person

GOLDEN = Path(__file__).parents[1] / "golden"
CORPUS = GOLDEN / "csv_source"
HEADER = "CSV_USERNAME;CSV_FIRSTNAME;CSV_SURNAME;CSV_EMAIL;CSV_TITLE;CSV_PHONE"
ANNA = "anna;Anna;Berg;anna@example.test;Ekonom;+46 8-123 45"
JAN = "jan;Jan;Ek;jan@example.test;;"


def read(content: bytes, **settings: str) -> ParsedFile:
    return CsvSource(CsvSourceConfig.model_validate(settings), "people").read_file(content)


def lines(*rows: str, end: str = "\n") -> bytes:
    return end.join(rows).encode() + end.encode()


def reasons(parsed: ParsedFile) -> list[str]:
    return [record.reason for record in parsed.invalid]


def person(parsed: ParsedFile, person_id: str) -> Person:
    return next(p for p in parsed.persons if p.person_id == person_id)


# The broken-CSV corpus: (what, file, expected row errors, person ids read).
ROW_CORPUS = [
    (
        "a row with the wrong separator",
        lines(HEADER, ANNA, "jan,Jan,Ek,jan@example.test,,"),
        [
            "line 3: 1 values where the header has 6 columns (a wrong separator, or a value "
            "with the separator not quoted?)"
        ],
        ["anna"],
    ),
    (
        "a missing mandatory value",
        lines(HEADER, ANNA, "jan;Jan;;jan@example.test;;"),
        ["line 3, CSV_SURNAME: is mandatory and empty"],
        ["anna"],
    ),
    (
        "an invalid e-mail address",
        lines(HEADER, ANNA, "jan;Jan;Ek;jan@;;"),
        ["line 3, CSV_EMAIL: 'jan@' is not an e-mail address"],
        ["anna"],
    ),
    (
        "an overlong value",
        lines(HEADER, ANNA, f"jan;Jan;Ek;jan@example.test;{'T' * 300};"),
        [f"line 3, CSV_TITLE: '{'T' * 39}…' is longer than 256 characters (300)"],
        ["anna"],
    ),
    (
        "an overlong key (the store keeps ids of at most 64 characters)",
        lines(HEADER, f"{'j' * 70};Jan;Ek;jan@example.test;;"),
        [f"line 2, CSV_USERNAME: '{'j' * 39}…' is longer than 64 characters (70)"],
        [],
    ),
    (
        "formulas, several in one row, each named",
        lines(HEADER, ANNA, "jan;=HYPERLINK(1);Ek;jan@example.test;@SUM(1);-1+2"),
        [
            "line 3, CSV_FIRSTNAME: '=HYPERLINK(1)' starts like a spreadsheet formula; "
            "line 3, CSV_TITLE: '@SUM(1)' starts like a spreadsheet formula; "
            "line 3, CSV_PHONE: '-1+2' starts like a spreadsheet formula"
        ],
        ["anna"],
    ),
    (
        "a formula behind a spreadsheet's neutralising quote is still a formula",
        lines(HEADER, "jan;'=1+2;Ek;jan@example.test;;"),
        ["line 2, CSV_FIRSTNAME: '=1+2' starts like a spreadsheet formula"],
        [],
    ),
    (
        "a phone number that is not one",
        lines(HEADER, "jan;Jan;Ek;jan@example.test;;call me"),
        ["line 2, CSV_PHONE: 'call me' is not a phone number (only digits and +-() )"],
        [],
    ),
    (
        "duplicate usernames: the second row is set aside (case does not make it another)",
        lines(HEADER, ANNA, JAN, "ANNA;Annie;Berg;annie@example.test;;"),
        ["line 4, CSV_USERNAME: 'ANNA' is also on line 2; the second row is set aside"],
        ["anna", "jan"],
    ),
    (
        "a value with a quote and a line break keeps the next row's line number right",
        lines(
            HEADER,
            'anna;Anna;Berg;anna@example.test;"Head of ""R&D""\nNordics";',
            "jan;Jan;;x@y.se;;",
        ),
        ["line 4, CSV_SURNAME: is mandatory and empty"],
        ["anna"],
    ),
]


@pytest.mark.parametrize(
    ("what", "content", "expected", "read_ids"), ROW_CORPUS, ids=[c[0] for c in ROW_CORPUS]
)
def test_broken_rows_are_set_aside_with_line_column_and_reason(
    what: str, content: bytes, expected: list[str], read_ids: list[str]
) -> None:
    parsed = read(content)
    assert reasons(parsed) == expected
    assert [p.person_id for p in parsed.persons] == read_ids


FILE_CORPUS = [
    ("an empty file", b"", "the file is empty: no header and no rows"),
    ("a BOM and blank lines only", b"\xef\xbb\xbf\r\n\r\n", "the file is empty"),
    (
        "an Excel workbook",
        b"PK\x03\x04\x14\x00\x06\x00rest-of-zip",
        "the file is not CSV: it is a zip archive or an Excel workbook (.xlsx): save it as CSV",
    ),
    ("a PDF", b"%PDF-1.7\n...", "the file is not CSV: it is a PDF document"),
    ("binary data", b"CSV_USERNAME\x00\x01\x02\x00", "the file holds binary data (NUL bytes)"),
    (
        "not CSV at all (prose)",
        b"Dear HR,\nplease find the list attached.\n",
        "the header names none of the columns of Flexwhere user list (it reads 'Dear HR;'): "
        "is it the right file?",
    ),
    (
        "a missing mandatory column",
        lines("CSV_USERNAME;CSV_FIRSTNAME;CSV_SURNAME", "anna;Anna;Berg"),
        "the header lacks the mandatory column CSV_EMAIL",
    ),
    (
        "a column named twice",
        lines("CSV_USERNAME;CSV_FIRSTNAME;CSV_SURNAME;CSV_EMAIL;csv_email", "a;b;c;d@e.se;x"),
        "the header names CSV_EMAIL more than once",
    ),
    (
        "broken quoting (an opening quote never closed)",
        lines(HEADER, 'anna;"Anna;Berg;anna@example.test;;', "jan;Jan;Ek;jan@example.test;;"),
        "line 2: the file's quoting is broken",
    ),
]


@pytest.mark.parametrize(
    ("what", "content", "message"), FILE_CORPUS, ids=[c[0] for c in FILE_CORPUS]
)
def test_a_file_that_cannot_be_read_is_refused_whole(
    what: str, content: bytes, message: str
) -> None:
    with pytest.raises(CsvFileError) as raised:
        read(content)
    assert message in str(raised.value)


def test_a_declared_separator_that_does_not_fit_names_the_one_the_file_has() -> None:
    content = lines(HEADER.replace(";", ","), ANNA.replace(";", ","))
    with pytest.raises(CsvFileError) as raised:
        read(content, delimiter=";")
    assert "the file seems separated by ',', not ';'" in str(raised.value)


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (
            b"\xef\xbb\xbf"
            + lines(
                *(f'"{r.replace(";", chr(34) + ";" + chr(34))}"' for r in (HEADER, ANNA)),
                end="\r\n",
            ),
            "UTF-8 with BOM, ';' separated, quoted fields, CRLF lines",
        ),
        (
            lines(HEADER.replace(";", ","), ANNA.replace(";", ",")),
            "UTF-8, ',' separated, no quoting, LF lines",
        ),
        (
            lines(HEADER.replace(";", "\t"), ANNA.replace(";", "\t")),
            "UTF-8, tab separated, no quoting, LF lines",
        ),
        (
            lines(HEADER, "asa;Åsa;Öberg;asa@example.test;;").decode().encode("cp1252"),
            "Windows-1252, ';' separated, no quoting, LF lines",
        ),
        (
            lines(HEADER, "asa;Åsa;Öberg;asa@example.test;;").decode().encode("utf-16"),
            "UTF-16, ';' separated, no quoting, LF lines",
        ),
    ],
    ids=["utf8-bom-crlf-quoted", "comma-lf", "tab", "cp1252", "utf16"],
)
def test_encoding_separator_quoting_and_line_ends_are_sniffed_and_shown(
    content: bytes, shown: str
) -> None:
    parsed = read(content)
    assert parsed.dialect.describe() == shown
    assert not parsed.invalid
    assert len(parsed.persons) == 1


def test_cp1252_names_are_read_as_written() -> None:
    parsed = read(lines(HEADER, "asa;Åsa;Öberg;asa@example.test;;").decode().encode("cp1252"))
    assert (parsed.persons[0].given_name, parsed.persons[0].family_name) == ("Åsa", "Öberg")


def test_hostile_but_harmless_values_are_normalised() -> None:
    decomposed = "A\u030asa"  # Å as A + combining ring: NFC makes it one character
    row = f"asa;{decomposed}\u200b\x07;Ö\u202eberg;asa@example.test;  Head   of\tSales ;+46 70-1 23"
    asa = read(lines(HEADER, row)).persons[0]
    assert (asa.given_name, asa.family_name) == ("Åsa", "Öberg")
    assert asa.employment.title == "Head of Sales"
    assert asa.phone == "+46 70-1 23"  # a leading + is a country code in a phone column


def test_a_quoted_value_with_a_line_break_is_one_value() -> None:
    content = lines(HEADER, 'anna;Anna;Berg;anna@example.test;"Head of ""R&D""\r\nNordics";')
    assert read(content).persons[0].employment.title == 'Head of "R&D" Nordics'


def test_crlf_and_lf_files_read_the_same() -> None:
    assert read(lines(HEADER, ANNA, JAN, end="\r\n")).items == read(lines(HEADER, ANNA, JAN)).items


def test_a_flexwhere_row_becomes_a_person() -> None:
    parsed = read(lines(HEADER + ";CSV_DEPARTMENT;CSV_EHBO", ANNA + ";Finance;1"))
    anna = parsed.persons[0]
    assert (anna.person_id, anna.employee_number) == ("anna", "anna")
    assert (anna.given_name, anna.family_name, anna.email) == ("Anna", "Berg", "anna@example.test")
    assert anna.organisation_value("Department") == "Finance"
    assert dict(anna.custom) == {"username": "anna", "ehbo": "1"}
    assert anna.employment.company_name == "people"  # the source, when the file names none


def test_a_flexwhere_flag_outside_its_values_is_refused() -> None:
    parsed = read(lines(HEADER + ";CSV_EHBO", ANNA + ";2"))
    assert reasons(parsed) == ["line 2, CSV_EHBO: '2' is not one of 1, 0"]


def test_the_flexwhere_file_the_csv_target_writes_reads_back_as_a_source() -> None:
    parsed = read((GOLDEN / "flexwhere - users.csv").read_bytes())
    assert not parsed.invalid
    assert [p.given_name for p in parsed.persons] == ["Anna", "Karl-Johan"]
    assert parsed.dialect.describe() == "UTF-8, ';' separated, quoted fields, CRLF lines"


def test_a_rows_broken_person_still_counts_as_listed() -> None:
    parsed = read(lines(HEADER, ANNA, "jan;Jan;Ek;jan@;;"))
    assert parsed.listed_keys == {"anna", "jan"}


def test_a_powershell_export_of_ad_users_reads_with_managers_resolved() -> None:
    parsed = read((CORPUS / "get-aduser-export.csv").read_bytes(), format="ad_export")
    assert not parsed.invalid
    boss, anna = person(parsed, "lsvensson"), person(parsed, "aberg")
    assert (anna.given_name, anna.family_name, anna.email) == ("Anna", "Berg", "anna.berg@acme.se")
    assert anna.employee_number == "1001"
    assert anna.manager_id == boss.person_id
    assert anna.organisation_value("Department") == "Finance"
    assert "dn" not in dict(anna.custom) and "manager_dn" not in dict(anna.custom)


def test_a_csvde_export_reads_and_an_unknown_manager_is_a_warning() -> None:
    parsed = read((CORPUS / "csvde-export.csv").read_bytes(), format="ad_export")
    assert parsed.dialect.describe().startswith("UTF-8, ',' separated, quoted fields")
    jan = person(parsed, "jek")
    assert jan.manager_id is None
    assert jan.warnings == (
        "manager left out: 'CN=Gone Person,OU=Users,DC=acme,DC=local' is no row of the file",
    )
    assert person(parsed, "aberg").manager_id == "jek"


def test_a_columns_table_with_its_own_key() -> None:
    settings = {
        "columns": {
            "Nr": "employee_number",
            "Förnamn": "given_name",
            "Efternamn": "family_name",
            "Avdelning": "org.Department",
        },
        "key": "Nr",
    }
    config = CsvSourceConfig.model_validate(settings)
    parsed = CsvSource(config, "hr").read_file(
        lines("Nr;Förnamn;Efternamn;Avdelning;Extra", "7;Åsa;Ö;IT;x")
    )
    asa = parsed.persons[0]
    assert (asa.person_id, asa.employee_number, asa.organisation_value("Department")) == (
        "7",
        "7",
        "IT",
    )
    assert parsed.ignored_columns == ("Extra",)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"columns": {"A": "shoe_size"}}, "unknown person field in A = 'shoe_size'"),
        ({"columns": {"A": "given_name"}}, "name the key column"),
        ({"key": "CSV_NOPE"}, "key 'CSV_NOPE' is not one of the columns"),
        ({"delivery": "folder"}, "delivery = folder needs folder"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"mode": "merge"}, "mode"),
    ],
)
def test_settings_that_cannot_work_are_refused_when_loaded(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        CsvSourceConfig.model_validate(settings)
    assert message in str(raised.value)


def test_a_csv_source_without_a_file_says_how_to_give_it_one() -> None:
    source = CsvSource(CsvSourceConfig(), "people")
    with pytest.raises(Exception, match="hrsync import-file people FILE"):
        list(source.read_people(None))


def test_items_keep_file_order_persons_and_set_aside_rows_together() -> None:
    parsed = read(lines(HEADER, ANNA, "jan;Jan;Ek;jan@;;", "eva;Eva;Ek;eva@example.test;;"))
    kinds = [type(item) for item in parsed.items]
    assert kinds == [Person, InvalidRecord, Person]
    assert parsed.invalid[0].source_ref == "line 3 (jan)"
    assert parsed.invalid[0].excerpt == "jan;Jan;Ek;jan@;;"
