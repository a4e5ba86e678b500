"""AFAS Profit as a source kind of the app: loaded from a config file, imported into the person
store (joiners with tickets), then a change in AFAS found by the modified-since window, and a
connection on it delivering a file. The AFAS simulator over loopback, no mocks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx2
import pytest

from hrsync.app.config_file import load_config
from hrsync.app.imports.source_import import import_source
from hrsync.app.models import Person, Ticket
from hrsync.app.runs.connection_run import run_connection
from hrsync.domain.errors import SourceError
from hrsync.simulators.afas import AfasSimulator, Token, generate_dataset

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 7)


@pytest.fixture
def sim() -> Iterator[AfasSimulator]:
    with AfasSimulator(generate_dataset(count=40, seed=7, today=TODAY), Token("t0k3n")) as s:
        yield s


def test_an_afas_source_imports_people_and_a_connection_provisions_them(
    sim: AfasSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFAS_TOKEN", "t0k3n")
    out = tmp_path / "drop"
    out.mkdir()
    config = tmp_path / "hrsync.toml"
    config.write_text(
        f"""
[sources.afas]
type = "afas"
url = "{sim.url}"
token_env = "AFAS_TOKEN"

[connections.fw]
source = "afas"
type = "csv"
format = "flexwhere"
folder = "{out}"
state_dir = "{tmp_path / "state"}"
state = "active"
""",
        encoding="utf-8",
    )
    load_config(config)
    summary = import_source("afas")
    assert summary.new > 0 and summary.fetched == summary.new + summary.invalid
    assert Person.objects.filter(source__key="afas").count() == summary.new
    assert Ticket.objects.count() >= summary.new  # a joiner ticket each

    run_connection("fw")
    rows = list(
        csv.DictReader(io.StringIO((out / "flexwhere - users.csv").read_text()), delimiter=";")
    )
    assert rows and all(r["CSV_USERNAME"] for r in rows)

    someone = Person.objects.filter(source__key="afas").order_by("employee_number").first()
    assert someone is not None
    httpx2.patch(
        f"{sim.control_url}/employees/{someone.employee_number}",
        json={"Mobiel_werk": "06-12345678"},
    ).raise_for_status()
    again = import_source("afas")
    assert again.changed == 1
    someone.refresh_from_db()
    assert someone.fields["mobile"] == "06-12345678"


def test_a_wrong_afas_token_fails_the_import_with_a_clear_reason(
    sim: AfasSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFAS_TOKEN", "wrong")
    config = tmp_path / "hrsync.toml"
    config.write_text(
        f'[sources.afas]\ntype = "afas"\nurl = "{sim.url}"\ntoken_env = "AFAS_TOKEN"\n',
        encoding="utf-8",
    )
    load_config(config)
    with pytest.raises(SourceError, match="refused the token"):
        import_source("afas")
