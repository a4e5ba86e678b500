"""`hrsync connections check` and `hrsync scim …`: what a connection's target says of itself."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from hrsync.cli.django_setup import setup_django

if TYPE_CHECKING:
    from hrsync.app.models import Connection


@click.group("connections")
def connections() -> None:
    """Connections from a source to a target."""


@connections.command("check")
@click.argument("connection")
def check_connection(connection: str) -> None:
    """Test the connection's target with its stored settings, as the console's Test connection."""
    click.echo(_check(connection))


@click.group("scim")
def scim() -> None:
    """SCIM 2.0 apps: what they support, and how well they follow the RFCs."""


@scim.command("check")
@click.argument("connection")
def scim_check(connection: str) -> None:
    """Read /ServiceProviderConfig, /ResourceTypes and /Schemas and say what was found."""
    click.echo(_check(connection, kind="scim"))


@scim.command("compliance")
@click.argument("connection")
@click.option(
    "--with-writes",
    is_flag=True,
    help="Also create, change and delete test users and groups (never on a production app).",
)
@click.option("--json", "as_json", is_flag=True)
def scim_compliance(connection: str, with_writes: bool, as_json: bool) -> None:
    """Run scim2-tester's checks against the app; exit 1 when a check fails."""
    setup_django()
    from hrsync.app.connection_settings import wiring

    row = _connection(connection, "scim")
    report = wiring.check_compliance_of(row, with_writes=with_writes)
    if as_json:
        checks = [_plain(check) for check in report.checks]
        click.echo(json.dumps({"counts": report.counts, "checks": checks}))
    else:
        for check in report.checks:
            reason = f": {check.reason}" if check.reason else ""
            click.echo(f"{check.status:<8} {check.title}{reason}")
        click.echo(f"{report.passed} passed, {report.failed} failed")
    if report.failed:
        raise SystemExit(1)


def _plain(check: object) -> dict[str, object]:
    fields = ("name", "title", "status", "reason", "resource_type")
    return {name: getattr(check, name, None) for name in fields}


def _connection(key: str, kind: str | None = None) -> Connection:
    from hrsync.app import models

    row = models.Connection.objects.filter(key=key).first()
    if row is None:
        raise click.ClickException(f"no connection {key!r}")
    if kind is not None and row.kind != kind:
        raise click.ClickException(f"{key} is a {row.kind} connection, not {kind}")
    return row


def _check(key: str, kind: str | None = None) -> str:
    setup_django()
    from hrsync.app.connection_settings import wiring
    from hrsync.domain.errors import TargetError

    row = _connection(key, kind)
    try:
        return wiring.check_target(row.kind, wiring.target_config(row))
    except (TargetError, wiring.MissingSecretError) as error:
        raise click.ClickException(str(error)) from error
