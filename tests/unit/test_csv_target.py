"""The CSV target through the engine as a run drives it: plan, apply, deliver, plan again.
The file is read back with Python's csv module and every column rule checked."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from hrsync.connectors.csv.config import CsvConfig
from hrsync.connectors.csv.delivery import csv_secret_setting, open_drop, sftp_settings
from hrsync.connectors.csv.formats import FLEXWHERE, WINNINGTEMP, FileFormat
from hrsync.connectors.csv.group_naming import CsvGroupNaming
from hrsync.connectors.csv.target import CsvTarget
from hrsync.connectors.files.drop import FolderDrop
from hrsync.connectors.files.sftp import SftpDrop
from hrsync.domain.changes import ManualStep, kind_of
from hrsync.domain.errors import TargetError
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Plan, Status
from hrsync.engine.accounts_after import accounts_after
from hrsync.engine.apply import apply_changes
from hrsync.engine.groups import GroupPolicy, plan_groups
from hrsync.engine.plan import NAME_UNAVAILABLE, plan_changes

TODAY = date(2026, 12, 7)
GOLDEN = Path(__file__).parent.parent / "golden"


def person(number: int, given: str, family: str, **changes: object) -> Person:
    base = Person(
        person_id=PersonId(f"p{number:05d}"),
        employee_number=EmployeeNumber(str(1000 + number)),
        given_name=given,
        family_name=family,
        employment=Employment("c1", "Acme AB", "Ekonom", "Tillsvidare", date(2020, 1, 1)),
        email=f"{given}.{family}.{number}@example.test".lower().replace(" ", ""),
        phone="+46 8-123 45",
        organisation=(("Department", "Finance"),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def target(tmp_path: Path, file_format: str = "flexwhere", contents: str = "full") -> CsvTarget:
    (tmp_path / "out").mkdir(exist_ok=True)
    config = CsvConfig(
        format=file_format,  # type: ignore[arg-type]
        folder=str(tmp_path / "out"),
        state_dir=str(tmp_path / "state"),
        receipt=True,
        contents=contents,  # type: ignore[arg-type]
    )
    return CsvTarget(config)


def run(tmp_path: Path, people: list[Person], today: date = TODAY) -> Plan:
    """One run: a fresh target on the last delivery, plan, apply, close (delivers)."""
    csv_target = target(tmp_path)
    accounts = list(csv_target.read_accounts())
    links = {PersonId(a.attributes["hrsync_person_id"]): a.account_id for a in accounts}
    plan = plan_changes(people, accounts, links, csv_target.policy, today)
    outcomes = apply_changes(plan.changes, csv_target)
    assert all(o.status is not Status.FAILED for o in outcomes), outcomes
    csv_target.close()
    return plan


def delivered(
    tmp_path: Path, file_format: FileFormat = FLEXWHERE, name: str = ""
) -> list[dict[str, str]]:
    raw = (tmp_path / "out" / (name or file_format.file_name)).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""), delimiter=";")
    return list(reader)


def test_the_first_run_creates_every_row_and_the_next_plans_nothing(tmp_path: Path) -> None:
    people = [person(1, "Anna", "Berg"), person(2, "Åsa", "Öberg")]
    assert run(tmp_path, people).counts()["create"] == 2
    assert run(tmp_path, people).is_empty
    assert [row["CSV_USERNAME"] for row in delivered(tmp_path)] == [
        "anna.berg.1@example.test",
        "åsa.öberg.2@example.test",
    ]


def test_the_flexwhere_file_matches_the_golden_file(tmp_path: Path) -> None:
    run(tmp_path, [person(1, "Anna", "Berg"), person(2, "Karl-Johan", "Vänsterhänt-Lindqvist")])
    out = tmp_path / "out" / "flexwhere - users.csv"
    assert out.read_bytes() == (GOLDEN / "flexwhere - users.csv").read_bytes()
    receipt = (tmp_path / "out" / "flexwhere - users.csv.sha256").read_text()
    assert receipt.split()[1] == "flexwhere"
    assert not list((tmp_path / "out").glob("*.part"))


def test_a_change_in_hr_is_one_update_and_reaches_the_file(tmp_path: Path) -> None:
    people = [person(1, "Anna", "Berg")]
    run(tmp_path, people)
    moved = [dataclasses.replace(people[0], organisation=(("Department", "Sales"),))]
    plan = run(tmp_path, moved)
    assert [kind_of(c) for c in plan.changes] == ["update"]
    assert delivered(tmp_path)[0]["CSV_DEPARTMENT"] == "Sales"


def test_a_row_breaking_a_rule_is_left_out_with_a_manual_step(tmp_path: Path) -> None:
    people = [
        person(1, "Anna", "Berg"),
        person(2, "B", "Kort"),
        person(3, "Cia", "Tel", phone="x1"),
    ]
    plan = run(tmp_path, people)
    manual = {c.person_id: c for c in plan.changes if isinstance(c, ManualStep)}
    assert {c.reason for c in manual.values()} == {NAME_UNAVAILABLE}
    assert (
        "CSV_FIRSTNAME 'B' is shorter than 2 characters"
        in manual[PersonId("p00002")].detail["CSV_FIRSTNAME"]
    )
    assert "CSV_PHONE 'x1'" in manual[PersonId("p00003")].detail["CSV_PHONE"]
    assert [row["CSV_FIRSTNAME"] for row in delivered(tmp_path)] == ["Anna"]


def test_a_leaver_leaves_the_file_and_a_rehire_comes_back(tmp_path: Path) -> None:
    people = [person(1, "Anna", "Berg"), person(2, "Bo", "Ek")]
    run(tmp_path, people)
    ended = dataclasses.replace(people[1].employment, end_date=TODAY - timedelta(days=2))
    left = [people[0], dataclasses.replace(people[1], employment=ended)]
    plan = run(tmp_path, left)
    assert "disable" in [kind_of(c) for c in plan.changes]
    assert [row["CSV_FIRSTNAME"] for row in delivered(tmp_path)] == ["Anna"]
    assert run(tmp_path, left).is_empty
    run(tmp_path, people)
    assert [row["CSV_FIRSTNAME"] for row in delivered(tmp_path)] == ["Anna", "Bo"]


def test_hostile_values_are_neutralised(tmp_path: Path) -> None:
    people = [
        person(1, '=HYPERLINK("x")', "Berg", email="h1@example.test"),
        person(
            2,
            "@SUM(A1)",
            "-2+3",
            email="h2@example.test",
            employment=Employment("c1", "Acme", '+cmd|"/c calc"!A0', None, date(2020, 1, 1)),
        ),
        person(3, "Tab\tbed", "Line\r\nbreak\x07", email="h3@example.test"),
    ]
    run(tmp_path, people)
    rows = delivered(tmp_path)
    assert [r["CSV_FIRSTNAME"] for r in rows] == ['\'=HYPERLINK("x")', "'@SUM(A1)", "Tab\tbed"]
    assert rows[1]["CSV_SURNAME"] == "'-2+3"
    assert rows[1]["CSV_TITLE"] == '\'+cmd|"/c calc"!A0'
    assert rows[2]["CSV_SURNAME"] == "Linebreak"
    assert rows[0]["CSV_PHONE"] == "+46 8-123 45"  # a phone's + is a country code
    assert all(
        not v.startswith(("=", "+", "-", "@")) or k.endswith("PHONE")
        for r in rows
        for k, v in r.items()
    )


def test_a_long_display_name_is_cut_to_twenty(tmp_path: Path) -> None:
    run(tmp_path, [person(1, "Maximiliana", "Vänsterhänt-Lindqvist")])
    assert delivered(tmp_path)[0]["CSV_DISPLAYNAME"] == "Vänsterhänt-Lindqvis"


def test_a_thousand_people_pass_every_column_rule(tmp_path: Path) -> None:
    people = [person(n, f"Given{n}", f"Family{n}", mobile="070-123 45 67") for n in range(1000)]
    run(tmp_path, people)
    raw = (tmp_path / "out" / FLEXWHERE.file_name).read_bytes()
    assert raw.count(b"\r\n") == 1001 and b"\n" not in raw.replace(b"\r\n", b"")
    rows = delivered(tmp_path)
    assert len(rows) == 1000
    assert list(rows[0]) == [c.name for c in FLEXWHERE.columns]
    for row in rows:
        for column in FLEXWHERE.columns:
            assert column.broken_rule(row[column.name]) is None, (column.name, row)
    assert all(line.startswith(b'"') for line in raw.split(b"\r\n") if line)


def winningtemp_run(tmp_path: Path, people: list[Person], contents: str = "full") -> Plan:
    """One run of a Winningtemp connection keeping groups of Office and Department."""
    csv_target = target(tmp_path, "winningtemp", contents)
    accounts = list(csv_target.read_accounts())
    links = {PersonId(a.attributes["hrsync_person_id"]): a.account_id for a in accounts}
    plan = plan_changes(people, accounts, links, csv_target.policy, TODAY)
    policy = GroupPolicy(("Office", "Department"), CsvGroupNaming(csv_target.profile))
    after = accounts_after(accounts, links, plan.changes, "hrsync_person_id", csv_target.profile)
    groups, _ = csv_target.read_groups()
    changes = (*plan.changes, *plan_groups(people, groups, after, policy, today=TODAY))
    outcomes = apply_changes(changes, csv_target)
    assert all(o.status is not Status.FAILED for o in outcomes), outcomes
    csv_target.close()
    return Plan(changes, plan.derivations)


def office(name: str, department: str) -> tuple[tuple[str, str], ...]:
    return (("Office", name), ("Department", department))


WINNINGTEMP_PEOPLE = [
    person(1, "Per", "Ek", organisation=office("Stockholm", "Finance"), custom=(("gender", "1"),)),
    person(
        2,
        "Anna",
        "Berg",
        organisation=office("Stockholm", "Finance"),
        custom=(("gender", "2"),),
        birth_date=date(1990, 5, 1),
        manager_id=PersonId("p00001"),
    ),
    person(
        3, "Bo", "Lund", organisation=office("Göteborg", "Finance"), manager_id=PersonId("p00001")
    ),
]


def test_the_winningtemp_files_name_managers_and_nested_groups(tmp_path: Path) -> None:
    plan = winningtemp_run(tmp_path, WINNINGTEMP_PEOPLE)
    kinds = [kind_of(c) for c in plan.changes]
    assert kinds.count("create") == 3 and kinds.count("create_group") == 4
    out = tmp_path / "out"
    assert (out / "users.csv").read_bytes() == (GOLDEN / "winningtemp-users.csv").read_bytes()
    assert (out / "groups.csv").read_bytes() == (GOLDEN / "winningtemp-groups.csv").read_bytes()
    users = delivered(tmp_path, WINNINGTEMP)
    groups = {g["ExternalId"]: g for g in delivered(tmp_path, WINNINGTEMP, "groups.csv")}
    assert [u["ManagerExternalId"] for u in users] == ["", "1001", "1001"]
    # Two Finance departments under two offices stay two groups, each under its office.
    anna, bo = groups[users[1]["GroupExternalId"]], groups[users[2]["GroupExternalId"]]
    assert anna["Name"] == bo["Name"] == "Finance" and anna["ExternalId"] != bo["ExternalId"]
    assert groups[anna["ParentExternalId"]]["Name"] == "Stockholm"
    assert groups[bo["ParentExternalId"]]["Name"] == "Göteborg"
    assert groups[bo["ParentExternalId"]]["ParentExternalId"] == ""
    assert winningtemp_run(tmp_path, WINNINGTEMP_PEOPLE).is_empty


def test_a_new_manager_and_a_move_reach_the_winningtemp_files(tmp_path: Path) -> None:
    winningtemp_run(tmp_path, WINNINGTEMP_PEOPLE)
    per, anna, bo = WINNINGTEMP_PEOPLE
    moved = dataclasses.replace(bo, organisation=office("Stockholm", "Finance"))
    new_manager = dataclasses.replace(anna, manager_id=bo.person_id)
    plan = winningtemp_run(tmp_path, [per, new_manager, moved])
    kinds = [kind_of(c) for c in plan.changes]
    assert "set_manager" in kinds and "add_members" in kinds
    users = {u["FirstName"]: u for u in delivered(tmp_path, WINNINGTEMP)}
    assert users["Anna"]["ManagerExternalId"] == "1003"
    assert users["Bo"]["GroupExternalId"] == users["Per"]["GroupExternalId"]


def test_a_delta_delivery_holds_only_what_changed_and_a_removals_file(tmp_path: Path) -> None:
    per, anna, bo = WINNINGTEMP_PEOPLE
    winningtemp_run(tmp_path, [per, anna, bo], "delta")
    assert [u["FirstName"] for u in delivered(tmp_path, WINNINGTEMP)] == ["Per", "Anna", "Bo"]
    ended = dataclasses.replace(bo.employment, end_date=TODAY - timedelta(days=2))
    renamed = dataclasses.replace(anna, family_name="Berg-Ek")
    winningtemp_run(tmp_path, [per, renamed, dataclasses.replace(bo, employment=ended)], "delta")
    assert [u["LastName"] for u in delivered(tmp_path, WINNINGTEMP)] == ["Berg-Ek"]
    removed = delivered(tmp_path, WINNINGTEMP, "users - removed.csv")
    assert removed == [{"ExternalId": "1003"}]
    assert winningtemp_run(
        tmp_path, [per, renamed, dataclasses.replace(bo, employment=ended)]
    ).is_empty


def test_an_update_breaking_a_rule_keeps_the_last_valid_value(tmp_path: Path) -> None:
    people = [person(1, "Anna", "Berg")]
    run(tmp_path, people)
    changed = dataclasses.replace(people[0], phone="ring me", mobile="070-1")
    plan = run(tmp_path, [changed])
    manual = [c for c in plan.changes if isinstance(c, ManualStep)]
    assert [kind_of(c) for c in plan.changes if not isinstance(c, ManualStep)] == ["update"]
    assert "'ring me' does not match" in manual[0].detail["CSV_PHONE"]
    row = delivered(tmp_path)[0]
    assert (row["CSV_PHONE"], row["CSV_MOBILE"]) == ("+46 8-123 45", "070-1")


# Delivery settings (delivery = folder or sftp), validated when the config is loaded.

FINGERPRINT = "SHA256:" + "uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
SFTP = {
    "delivery": "sftp",
    "state_dir": "/var/lib/hrsync/fw",
    "host": "sftp.example.com",
    "username": "acme",
    "key_file": "/etc/hrsync/flexwhere_ed25519",
    "host_key_sha256": FINGERPRINT,
    "remote_dir": "upload",
}


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"state_dir": "/s"}, "delivery = folder needs folder"),
        ({**SFTP, "host": ""}, "delivery = sftp needs host"),
        ({k: v for k, v in SFTP.items() if k != "username"}, "delivery = sftp needs username"),
        (
            {k: v for k, v in SFTP.items() if k != "host_key_sha256"},
            "needs host_key_sha256 (`ssh-keyscan -p PORT HOST | ssh-keygen -lf -`",
        ),
        ({**SFTP, "host_key_sha256": "SHA256:short"}, "is not a SHA256 host key fingerprint"),
        ({**SFTP, "host_key_sha256": "MD5:aa:bb"}, "is not a SHA256 host key fingerprint"),
        ({**SFTP, "key_file": None}, "exactly one credential"),
        ({**SFTP, "password": "pw"}, "(given: key_file, password)"),
        ({**SFTP, "key_env": "FW_KEY"}, "(given: key_file, key_env)"),
        ({**SFTP, "port": 0}, "greater than or equal to 1"),
        ({**SFTP, "delivery": "ftp"}, "'folder' or 'sftp'"),
        ({**SFTP, "hostname": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_a_delivery_without_what_it_needs_is_refused(
    settings: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        CsvConfig.model_validate(settings)
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    ("pasted", "pinned"),
    [
        (FINGERPRINT, FINGERPRINT),
        (FINGERPRINT + "=", FINGERPRINT),
        (f"256 {FINGERPRINT} sftp.example.com (ED25519)", FINGERPRINT),
    ],
)
def test_the_host_key_is_pinned_as_ssh_keygen_prints_it(pasted: str, pinned: str) -> None:
    assert CsvConfig.model_validate({**SFTP, "host_key_sha256": pasted}).host_key_sha256 == pinned


@pytest.mark.parametrize(
    ("settings", "secret"),
    [
        ({"delivery": "folder", "folder": "/srv/drop"}, ""),
        ({}, ""),
        (SFTP, ""),
        ({**SFTP, "key_file": None, "key_env": "FW_KEY"}, ""),
        ({**SFTP, "key_file": None}, "password"),
        ({**SFTP, "key_file": None, "password_env": "FW_PASSWORD"}, "password"),
        ({**SFTP, "key_file": None, "auth": "key"}, "private_key"),
    ],
)
def test_the_connections_secret_is_the_password_or_key_sftp_logs_in_with(
    settings: dict[str, object], secret: str
) -> None:
    assert csv_secret_setting(settings) == secret


def test_sftp_settings_come_from_the_config_with_the_key_from_key_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FW_KEY", "-----BEGIN OPENSSH PRIVATE KEY-----\n...")
    config = CsvConfig.model_validate({**SFTP, "key_file": None, "key_env": "FW_KEY", "port": 2222})
    settings = sftp_settings(config)
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value().startswith("-----BEGIN OPENSSH")
    assert (settings.host, settings.port, settings.remote_dir) == (
        "sftp.example.com",
        2222,
        "upload",
    )
    assert settings.where == "sftp://acme@sftp.example.com:2222/upload"
    assert "BEGIN" not in repr(settings)
    monkeypatch.delenv("FW_KEY")
    with pytest.raises(TargetError, match=r"FW_KEY \(key_env\) is not set"):
        sftp_settings(config)


def test_the_drop_follows_the_delivery(tmp_path: Path) -> None:
    folder = CsvConfig(folder=str(tmp_path), state_dir=str(tmp_path / "state"))
    assert isinstance(open_drop(folder), FolderDrop)
    sftp = open_drop(CsvConfig.model_validate(SFTP))
    assert isinstance(sftp, SftpDrop)
    assert sftp.describe() == "sftp://acme@sftp.example.com:22/upload"


def test_an_empty_secret_beside_a_key_file_is_no_second_credential() -> None:
    config = CsvConfig.model_validate({**SFTP, "password": ""})
    settings = sftp_settings(config)
    assert settings.key_file == SFTP["key_file"]
    assert settings.password is None and settings.private_key is None


# An admin's own columns ([connections.KEY.columns]) in a preset's dialect.


def test_an_admins_columns_make_the_file_and_keep_their_rules(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    columns = {
        "USER": {"expression": "[email]", "mandatory": True, "min_length": 2},
        "NAME": {
            "expression": 'Join(" ", [given_name], [family_name])',
            "max_length": 12,
            "cut": True,
        },
        "DEPT": "[org.Department]",
        "CODE": {"expression": '"A1"', "pattern": "[A-Z][0-9]"},
        "MOBILE": {"expression": "[mobile]", "pattern": "[0-9+ -]*", "phone": True},
    }
    config = CsvConfig.model_validate(
        {"folder": str(tmp_path / "out"), "state_dir": str(tmp_path / "state"),
         "columns": columns, "key": "USER", "file_name": "people.csv"}
    )  # fmt: skip
    csv_target = CsvTarget(config)
    people = [
        person(1, "Maximiliana", "Berg", mobile="+46 70 1"),
        person(2, "Bo", "Ek", mobile="ring me"),
    ]
    plan = plan_changes(people, [], {}, csv_target.policy, TODAY)
    apply_changes(plan.changes, csv_target)
    csv_target.close()
    manual = [c for c in plan.changes if isinstance(c, ManualStep)]
    assert len(manual) == 1 and "MOBILE 'ring me' does not match" in manual[0].detail["MOBILE"]
    raw = (tmp_path / "out" / "people.csv").read_bytes().decode()
    rows = list(csv.DictReader(io.StringIO(raw, newline=""), delimiter=";"))
    assert list(rows[0]) == ["USER", "NAME", "DEPT", "CODE", "MOBILE"]
    assert rows == [
        {"USER": "maximiliana.berg.1@example.test", "NAME": "Maximiliana",
         "DEPT": "Finance", "CODE": "A1", "MOBILE": "+46 70 1"}
    ]  # fmt: skip
    assert raw.startswith('"USER";') and raw.endswith("\r\n")  # Flexwhere's dialect


@pytest.mark.parametrize(
    ("columns", "key", "problem"),
    [
        ({"USER": "[email]"}, "NOPE", "key 'NOPE' is not one of the columns"),
        ({"bad name": "[email]"}, None, "letters, digits and _"),
        ({"USER": {"expression": "[email]", "pattern": "(["}}, None, "not a regular expression"),
        ({"USER": {"expression": "[email]", "colour": "red"}}, None, "Extra inputs"),
    ],
)
def test_columns_that_cannot_be_used_are_refused_when_loaded(
    columns: dict[str, object], key: str | None, problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        CsvConfig.model_validate({"folder": "/srv", "columns": columns, "key": key})
    assert problem in str(refused.value)
