"""`hrsync config` and `hrsync mapping`: load the configuration; see what a mapping makes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hrsync.cli.django_setup import known, setup_django


@click.group()
def config() -> None:
    """Load sources and connections from a TOML file."""


@config.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def config_load(path: Path) -> None:
    """Create or update the sources and connections in PATH (idempotent)."""
    setup_django()
    from hrsync.app.config_errors import ConfigError
    from hrsync.app.config_file import load_config

    try:
        summary = load_config(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    for label, names in (
        ("created", summary.created),
        ("updated", summary.updated),
        ("unchanged", summary.unchanged),
    ):
        if names:
            click.echo(f"{label}: {', '.join(names)}")


@click.group()
def mapping() -> None:
    """A connection's attribute mapping."""


@mapping.command("test")
@click.argument("connection")
@click.argument("employee_number")
@click.option("--json", "as_json", is_flag=True)
def mapping_test(connection: str, employee_number: str, as_json: bool) -> None:
    """Show what CONNECTION makes of the person with EMPLOYEE_NUMBER: each attribute's value,
    the rule it came from (default or override) and the HR fields it read."""
    setup_django()
    from hrsync.app.connection_settings.wiring import MissingSecretError
    from hrsync.app.connections.mapping_trial import explain_mapping

    try:
        found = known(lambda: explain_mapping(connection, employee_number))
    except MissingSecretError as error:
        raise click.ClickException(str(error)) from error
    if not found:
        raise click.ClickException(
            f"no person with employee number {employee_number} in {connection}'s source "
            "(import it first: hrsync import SOURCE)"
        )
    if as_json:
        click.echo(json.dumps([item.to_json() for item in found], ensure_ascii=False))
        return
    for item in found:
        click.echo(f"{item.name} ({item.employee_number}, person {item.person_id})")
        if item.account_name or item.container:
            click.echo(f"  {item.account_name} in {item.container}".rstrip())
        for row in item.attributes:
            read = ", ".join(row.fields_read) or "-"
            click.echo(f"  {row.attribute:<28} {row.value or '(empty)'}")
            click.echo(f"  {'':<28} {row.source}: {row.rule}   [reads {read}]")
            for step in row.steps:
                click.echo(f"  {'':<28}   {step}")
        for problem in item.problems:
            click.echo(f"  problem: {problem} (the attribute is left as it is)", err=True)
