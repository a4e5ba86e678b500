"""`hrsync import` and `hrsync invalid`: import a source, and list the records it set aside."""

from __future__ import annotations

import json
from typing import Any

import click

from hrsync.cli.django_setup import known, setup_django
from hrsync.cli.progress import progress


@click.command("import")
@click.argument("source")
@click.option("--full", is_flag=True, help="Fetch everyone, not only the modified-since window.")
@click.option(
    "--accept-shrink",
    is_flag=True,
    help="A full import, recorded even when it lists markedly fewer people than the last full "
    "one (after a held import, once you know why).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def import_command(source: str, full: bool, accept_shrink: bool, as_json: bool) -> None:
    """Import SOURCE into the person store and record personnel changes.

    A full import that lists markedly fewer people than the last full one is held by the
    shrink guard: nothing of it is recorded until it is run again with --accept-shrink."""
    setup_django()
    from hrsync.app.connection_settings import wiring
    from hrsync.app.imports.source_import import import_source
    from hrsync.app.models import Source
    from hrsync.domain.errors import SourceError

    if wiring.is_file_source(known(lambda: Source.objects.get(key=source))):
        _pick_up(source, as_json)
        return
    accepted_by, full = ("cli", True) if accept_shrink else ("", full)
    with progress("Importing", as_json, total=None) as advance:
        try:
            summary = known(
                lambda: import_source(source, full=full, progress=advance, accepted_by=accepted_by)
            )
        except SourceError as error:
            raise click.ClickException(str(error)) from error
    counts: dict[str, Any] = summary.counts()
    if as_json:
        click.echo(json.dumps(counts | ({"held": summary.held} if summary.held else {})))
    else:
        click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
        if summary.invalid:
            click.echo(f"{summary.invalid} records set aside: hrsync invalid {source}", err=True)
    if summary.held and not as_json:
        click.echo(
            f"import {summary.import_id} held, nothing recorded: {summary.held}.\n"
            f"Once you know why, record it: hrsync import {source} --accept-shrink",
            err=True,
        )


def _pick_up(source: str, as_json: bool) -> None:
    """A file source (CSV) imports the new files in its pickup folder, as its schedule does."""
    from hrsync.app.imports.uploads import pick_up
    from hrsync.domain.errors import SourceError

    try:
        done = pick_up(source)
    except SourceError as error:
        raise click.ClickException(str(error)) from error
    counts = [d.summary.counts() | {"leavers": d.leavers, "held": d.summary.held} for d in done]
    if as_json:
        click.echo(json.dumps(counts))
    for entry in [] if as_json else counts:
        click.echo(", ".join(f"{k} {v}" for k, v in entry.items() if v != ""))
    if not done and not as_json:
        click.echo("no new file in the pickup folder")


@click.command("invalid")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True)
def invalid_command(source: str, as_json: bool) -> None:
    """List the records of SOURCE's latest import that were set aside, with the reason."""
    setup_django()
    from hrsync.app.models import Import

    latest = Import.objects.filter(source__key=source).order_by("-pk").first()
    rows = list(latest.invalid.values("source_ref", "reason")) if latest else []
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    for row in [] if as_json else rows:
        click.echo(f"{row['source_ref']}: {row['reason']}")
