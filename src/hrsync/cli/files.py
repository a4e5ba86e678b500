"""`hrsync import-file`: import an HR list in a CSV file into a file source, or preview it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from hrsync.cli.django_setup import known, setup_django
from hrsync.cli.progress import progress

SHOWN = 50
"""Persons listed per section in the text preview; --json lists everyone."""


@click.command("import-file")
@click.argument("source")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mode",
    type=click.Choice(["add", "replace"]),
    default=None,
    help="add: add and update; replace: people missing from the file leave. "
    "Default: the source's mode setting (else add).",
)
@click.option("--preview", is_flag=True, help="Show what would change; record nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the preview or the counts as JSON.")
@click.option(
    "--accept-shrink",
    is_flag=True,
    help="Record a replace file even when it lists markedly fewer people than the store holds.",
)
def import_file_command(  # noqa: PLR0917 (click passes every option by position)
    source: str, file: Path, mode: str | None, preview: bool, as_json: bool, accept_shrink: bool
) -> None:
    """Import FILE (CSV) into SOURCE, a CSV source: adds and updates, and in replace mode the
    people the file no longer lists become leavers. With --preview, nothing is recorded."""
    setup_django()
    from hrsync.app.imports.file_import import import_file, preview_file
    from hrsync.domain.errors import SourceError

    content = file.read_bytes()
    try:
        if preview:
            shown = known(lambda: preview_file(source, content, mode, file.name))
            _print_preview(shown.as_dict(), as_json)
            return
        with progress("Importing", as_json, total=None) as advance:
            done = known(
                lambda: import_file(
                    source,
                    content,
                    mode,
                    accepted_by="cli" if accept_shrink else "",
                    progress=advance,
                )
            )
    except SourceError as error:
        raise click.ClickException(f"{file.name}: {error}; nothing was recorded") from error
    _print_outcome(source, done.summary.counts(), done.summary.held, done.leavers, as_json)
    _audit(source, file.name, done.summary.import_id)


def _audit(source: str, file_name: str, import_id: int) -> None:
    from hrsync.app.security import audit

    audit.record(
        "cli",
        "source.file_imported",
        "source",
        source,
        after={"file": file_name, "import": import_id},
    )


def _print_outcome(
    source: str, counts: dict[str, int], held: str, leavers: int, as_json: bool
) -> None:
    if as_json:
        extra: dict[str, Any] = {"held": held} if held else {}
        click.echo(json.dumps(counts | {"leavers": leavers} | extra))
        return
    click.echo(", ".join(f"{k} {v}" for k, v in (counts | {"leavers": leavers}).items()))
    if counts.get("invalid"):
        click.echo(f"{counts['invalid']} rows set aside: hrsync invalid {source}", err=True)
    if held:
        click.echo(
            f"held, nothing recorded: {held}.\nOnce you know why, record it with --accept-shrink",
            err=True,
        )


def _print_preview(shown: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    click.echo(f"{shown['file_name']}: {shown['dialect']}; mode {shown['mode']}")
    click.echo(", ".join(f"{k} {v}" for k, v in shown["counts"].items()))
    for section in ("adds", "updates", "leavers"):
        for diff in shown[section][:SHOWN]:
            click.echo(f"  {section[:-1]} {diff['person_id']} ({diff['name']}): {diff['kind']}")
            for name, (old, new) in diff["changed"].items():
                click.echo(f"      {name}: {old!r} → {new!r}")
    for error in shown["invalid"][:SHOWN]:
        click.echo(f"  set aside: {error['reason']}")
    if shown["held"]:
        click.echo(f"the shrink guard would hold it: {shown['held']} (--accept-shrink)")
    click.echo("preview only: nothing was recorded")
