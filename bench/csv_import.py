"""A 100,000-row Flexwhere CSV as a source: parsing and validating it into persons (the
connector alone), then the whole file import into the store (`import_file`: persons, change
log, tickets), in a fresh HRSYNC_HOME. Goal: the whole import in at most 20 s.

`measure_import(n)` returns the figures; `python -m bench.csv_import import-once FILE` is the
timed import it runs in a child process (so the Django settings read that environment).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import measure
from hrsync.connectors.csv.source import CsvSource
from hrsync.connectors.csv.source_config import CsvSourceConfig

GOAL_SECONDS = 20.0
HRSYNC = str(Path(sys.executable).with_name("hrsync"))
HEADER = (
    "CSV_USERNAME;CSV_FIRSTNAME;CSV_SURNAME;CSV_DISPLAYNAME;CSV_TITLE;CSV_PHONE;CSV_MOBILE;"
    "CSV_DEPARTMENT;CSV_EMAIL;CSV_EHBO;CSV_BHV;CSV_PROFILEPHOTO"
)
SOURCE = '[sources.people]\ntype = "csv"\nformat = "flexwhere"\n'
GIVEN = ("Anna", "Karl-Johan", "Åsa", "Björn", "Émile", "Li", "Zoë", "Mohammed")
FAMILY = ("Berg", "Vänsterhänt-Lindqvist", "Öberg", "O'Neill", "Nguyen", "Ek", "Åström")
DEPARTMENTS = ("Finance", "IT", "HR", "Sales", "Support", "Research & Development")


def flexwhere_csv(n: int) -> bytes:
    """`n` distinct people as the Flexwhere template writes them: every field quoted, CRLF."""
    lines = ['"' + HEADER.replace(";", '";"') + '"']
    for i in range(n):
        given, family = GIVEN[i % len(GIVEN)], FAMILY[i % len(FAMILY)]
        user = f"user{i:06}@example.test"
        values = (
            user, given, family, f"{family}, {given}"[:20], "Ekonom", "+46 8-123 45",
            f"+46 70-{i:07}", DEPARTMENTS[i % len(DEPARTMENTS)], user, str(i % 2), "0", "",
        )  # fmt: skip
        lines.append(";".join(f'"{v}"' for v in values))
    return ("\r\n".join(lines) + "\r\n").encode()


def measure_parse(content: bytes) -> dict[str, float]:
    started = time.perf_counter()
    parsed = CsvSource(CsvSourceConfig(), "people").read_file(content)
    seconds = time.perf_counter() - started
    return {
        "csv_parse_seconds": seconds,
        "csv_parse_persons": float(len(parsed.persons)),
        "csv_parse_invalid": float(len(parsed.invalid)),
    }


def measure_import(n: int = 100_000) -> dict[str, float]:
    """Figures of parsing an `n`-row Flexwhere CSV, and of importing it into an empty store
    without tickets (`csv_import_plain_*`) and with them (`csv_import_*`)."""
    content = flexwhere_csv(n)
    figures = {"csv_rows": float(n), "csv_megabytes": len(content) / 1e6} | measure_parse(content)
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-csv-") as tmp:
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)  # SQLite in a fresh home, as bench.tickets does
        home = Path(tmp)
        for label, flags in (("csv_import_plain", ["--no-tickets"]), ("csv_import", [])):
            figures |= _timed_import(home / label, content, env, flags, label)
    return figures | {"csv_import_goal_seconds": GOAL_SECONDS}


def _timed_import(
    home: Path, content: bytes, env: dict[str, str], flags: list[str], label: str
) -> dict[str, float]:
    """One import of the file into a fresh store, in a child process."""
    home.mkdir()
    (home / "people.csv").write_bytes(content)
    (home / "bench.toml").write_text(SOURCE, encoding="utf-8")
    env = env | {"HRSYNC_HOME": str(home)}
    measure([HRSYNC, "config", "load", str(home / "bench.toml")], env)
    command = [sys.executable, "-m", "bench.csv_import", "import-once", str(home / "people.csv")]
    result = json.loads(measure([*command, *flags], env).output)
    return {
        f"{label}_seconds": result["seconds"],
        f"{label}_rss_mb": result["rss_mb"],
        f"{label}_new": float(result["new"]),
    }


def _import_once(path: Path, *, with_tickets: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
    import django  # noqa: PLC0415 (a child process: Django is set up here, not on import)

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415

    from hrsync.app.imports.file_import import import_file  # noqa: PLC0415

    call_command("migrate", interactive=False, verbosity=0)
    content = path.read_bytes()
    started = time.perf_counter()
    done = import_file("people", content, "replace", with_tickets=with_tickets)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": peak, **done.summary.counts()}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["import-once"]:
        _import_once(Path(sys.argv[2]), with_tickets="--no-tickets" not in sys.argv)
    else:
        count = int(sys.argv[1]) if sys.argv[1:] else 100_000
        print(json.dumps(measure_import(count), indent=2))
