"""Lifecycle by effective dates on a real directory: the run's clock moves, HR data does not.

Real parts: the Flex HRM simulator over HTTP (imported into the person store) and a Samba AD DC
over LDAPS. The clock is the run's `now` (run_connection(now=…)); nothing is patched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.sites import OFFLINE_CONFIG, flex_simulator, stored_site, throwaway_ou

from hrsync.app.config_errors import ConfigError
from hrsync.app.config_file import load_config
from hrsync.app.imports.source_import import import_source
from hrsync.app.models import Connection, Person, RunChange
from hrsync.app.runs.connection_run import RunSummary, run_connection
from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.engine.lifecycle_dates import takes_effect_at
from hrsync.simulators.flexhrm import FlexSimulator
from hrsync.testing.samba import SambaDC

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = datetime.now(STOCKHOLM).date()
"""The simulator's and the import's day: which employment period is current is decided on it."""
ACCOUNTDISABLE = 0x2


def midnight(day: date) -> datetime:
    return takes_effect_at(day, STOCKHOLM)


@dataclass
class Hr:
    """The simulator with a hand-made employee builder for company 1."""

    sim: FlexSimulator
    dataset: dict[str, Any]

    def type_id(self, code: str) -> str:
        company = self.dataset["companies"][0]["id"]
        return next(
            t["id"]
            for t in self.dataset["employmentTypes"]
            if t["companyId"] == company and t["code"] == code
        )

    def period(self, start: date, end: date | None = None, code: str = "TV") -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "fromDate": start.isoformat(),
            "toDate": end.isoformat() if end else None,
            "titleId": None,
            "employmentTypeId": self.type_id(code),
        }

    def hire(self, first: str, last: str, number: str, *periods: dict[str, Any]) -> str:
        person_id = str(uuid.uuid4())
        self.sim.add_employee(
            {
                "id": person_id,
                "companyId": self.dataset["companies"][0]["id"],
                "firstName": first,
                "lastName": last,
                "emailWork": f"{first.lower()}.{last.lower()}@acme.example",
                "employment": [{"employmentNumber": number}],
                "employmentPeriods": list(periods),
                "organization": {"Office": "Stockholm", "Department": "Ekonomi"},
            }
        )
        return person_id


@dataclass
class Directory:
    client: DirectoryClient
    base: str

    def account(self, person_id: str) -> tuple[str, bool, bytes] | None:
        """(DN, enabled?, objectGUID) of the person's account, or None."""
        found = list(
            self.client.search(
                self.base,
                f"(&(objectClass=user)(employeeNumber={person_id}))",
                ["userAccountControl", "objectGUID"],
            )
        )
        if not found:
            return None
        ((dn, values),) = found
        flags = int(values["userAccountControl"][0])
        return dn, not flags & ACCOUNTDISABLE, values["objectGUID"][0]


@pytest.fixture
def hr() -> Iterator[Hr]:
    with flex_simulator(count=3, seed=5) as (sim, dataset):
        yield Hr(sim, dataset)


@pytest.fixture
def directory(
    hr: Hr, samba_dc: SambaDC, admin_directory: DirectoryClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Directory]:
    """A source and an AD connection with a leavers OU, in a base OU of the test's own."""
    with throwaway_ou(admin_directory, samba_dc, "life") as base:
        leavers = {"leavers_ou": "OU=Leavers", "lifecycle": {"prehire_days": 14}}
        stored_site(hr.sim, samba_dc, base, monkeypatch, connection=leavers)
        yield Directory(admin_directory, base)


def run_at(now: datetime) -> RunSummary:
    summary = run_connection("ad", now=now)
    assert summary.failed == 0, summary
    return summary


def reasons(summary: RunSummary, person_id: str) -> list[tuple[str, str]]:
    return [
        (row.kind, str(row.payload.get("reason")))
        for row in RunChange.objects.filter(run_id=summary.run_id, person__person_id=person_id)
    ]


@pytest.mark.django_db(transaction=True)
def test_dates_take_effect_as_the_clock_passes_them(hr: Hr, directory: Directory) -> None:
    start = TODAY + timedelta(days=20)
    last = TODAY + timedelta(days=3)
    pia = hr.hire("Pia", "Prehire", "9001", hr.period(start))
    leo = hr.hire("Leo", "Leaver", "9002", hr.period(date(2020, 1, 1), last))
    import_source("flex")

    run_at(midnight(TODAY))
    assert directory.account(pia) is None  # 20 days ahead: outside the 14-day window
    assert directory.account(leo) is not None and directory.account(leo)[1]

    window = run_at(midnight(start - timedelta(days=14)))
    assert reasons(window, pia) == [("create", f"pre-hire: employment starts on {start}")]
    dn, enabled, guid = directory.account(pia) or ("", True, b"")
    assert dn.startswith("CN=Pia Prehire,OU=People,") and not enabled

    run_at(midnight(last + timedelta(days=1)) - timedelta(seconds=1))  # 23:59:59 on the last day
    assert directory.account(leo)[1]  # type: ignore[index]
    gone = run_at(midnight(last + timedelta(days=1)))
    assert sorted(reasons(gone, leo)) == [
        ("disable", f"employment ended on {last}"),
        ("move", f"employment ended on {last}: moved to the leavers OU"),
    ]
    leo_dn, leo_enabled, _ = directory.account(leo) or ("", True, b"")
    assert leo_dn.startswith("CN=Leo Leaver,OU=Leavers,") and not leo_enabled

    run_at(midnight(start) - timedelta(seconds=1))
    assert not directory.account(pia)[1]  # type: ignore[index]
    first_day = run_at(midnight(start))
    assert reasons(first_day, pia) == [("enable", "employment is active")]
    assert directory.account(pia) == (dn, True, guid)
    assert run_at(midnight(start) + timedelta(hours=5)).plan == dict.fromkeys(
        first_day.plan, 0
    )  # applied and planned again: nothing left


@pytest.mark.django_db(transaction=True)
def test_a_rehire_gets_the_same_account_back_in_place(hr: Hr, directory: Directory) -> None:
    last = TODAY - timedelta(days=10)
    old = hr.period(date(2019, 1, 1), last)
    rita = hr.hire("Rita", "Rehire", "9003", old)
    import_source("flex")
    run_at(midnight(last - timedelta(days=10)))  # while she was still employed
    dn, enabled, guid = directory.account(rita) or ("", False, b"")
    assert ",OU=People," in dn and enabled
    run_at(midnight(last + timedelta(days=1)))
    assert ",OU=Leavers," in (directory.account(rita) or ("",))[0]

    hr.sim.patch_employee(rita, {"employmentPeriods": [old, hr.period(TODAY)]})
    import_source("flex")
    back = run_at(midnight(TODAY))
    assert sorted(reasons(back, rita)) == [
        ("enable", "employment is active"),
        ("move", "employment is active: moved back from the leavers OU"),
    ]
    assert directory.account(rita) == (dn, True, guid)


@pytest.mark.django_db(transaction=True)
def test_a_contractor_who_becomes_an_employee_keeps_the_account(
    hr: Hr, directory: Directory
) -> None:
    contract = hr.period(date(2024, 1, 1), None, code="EXT")
    cleo = hr.hire("Cleo", "Contractor", "K9004", contract)
    import_source("flex")
    run_at(midnight(TODAY))
    before = directory.account(cleo)
    assert before is not None and before[1]

    # HR ends the contract yesterday and hires her from today, with a new employment number.
    ended = contract | {"toDate": (TODAY - timedelta(days=1)).isoformat()}
    hr.sim.patch_employee(
        cleo,
        {
            "employment": [{"employmentNumber": "9004"}],
            "employmentPeriods": [ended, hr.period(TODAY)],
        },
    )
    import_source("flex")
    row = Person.objects.get(person_id=cleo)
    assert row.fields["employment_type"] == "Tillsvidareanställning"
    changed = run_at(midnight(TODAY) + timedelta(hours=9))
    assert [kind for kind, _ in reasons(changed, cleo)] == ["update"]
    assert directory.account(cleo) == before


@pytest.mark.django_db
def test_the_lifecycle_table_is_checked_when_the_config_is_loaded(tmp_path: Path) -> None:
    base = (
        OFFLINE_CONFIG.replace(
            'users_ou = "OU=People"\n', 'users_ou = "OU=People"\nleavers_ou = "OU=Leavers"\n'
        )
        + "\n[connections.ad.lifecycle]\n"
    )
    path = tmp_path / "hrsync.toml"
    for table, message in [
        ("prehire_days = -1", "connections.ad.lifecycle.prehire_days: Input should be greater"),
        ('prehire_days = "14"', "connections.ad.lifecycle.prehire_days: Input should be a valid"),
        ("delete_after = 30", "connections.ad.lifecycle.delete_after: Extra inputs"),
    ]:
        path.write_text(base + table + "\n")
        with pytest.raises(ConfigError, match=message):
            load_config(path)
    path.write_text(base + "prehire_days = 7\ndelete_after_days = 90\n")
    load_config(path)
    settings = Connection.objects.get(key="ad").settings
    assert settings["lifecycle"] == {"prehire_days": 7, "delete_after_days": 90}
    assert settings["leavers_ou"] == "OU=Leavers"


def test_as_of_plans_only(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["HRSYNC_HOME"] = str(tmp_path)
    done = subprocess.run(
        [HRSYNC, "run", "ad", "--as-of", "2026-12-01"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "--as-of plans only: use it with --simulate" in done.stderr
