"""`hrsync oneflow …`: the contract write-back's contracts and steps."""

from __future__ import annotations

import json

import click

from hrsync.cli.django_setup import setup_django


@click.group("oneflow")
def oneflow() -> None:
    """The Oneflow contract write-back (integrations of type "oneflow")."""


@oneflow.command("contracts")
@click.argument("integration")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for scripts.")
def contracts_command(integration: str, as_json: bool) -> None:
    """The contracts seen, their state and each step's outcome."""
    setup_django()
    from hrsync.app.contracts.listing import UnknownIntegrationError, list_contracts

    try:
        rows = list_contracts(integration)
    except UnknownIntegrationError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps({"integration": integration, "contracts": rows}, ensure_ascii=False))
        return
    if not rows:
        click.echo("no contracts seen yet")
    for row in rows:
        who = f"{row['employee']} ({row['employee_number']})" if row["employee_number"] else "-"
        click.echo(f"contract {row['contract_id']}  {row['state']}  {who}")
        for step in row["steps"]:
            click.echo(
                f"  {step['event']:<32} {step['step']:<16} {step['status']:<8} {step['outcome']}"
            )


@oneflow.command("check")
@click.argument("integration")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for scripts.")
def check_command(integration: str, as_json: bool) -> None:
    """Check the set-up: Oneflow token and user, the Flex HRM API user's rights, the document
    category per company, the 15 data fields (the template type is created when missing).
    Exits 1 when a check failed."""
    setup_django()
    from hrsync.app.contracts.checks import UnknownIntegrationError, check_integration, checks_out

    try:
        checks = check_integration(integration, "cli")
    except UnknownIntegrationError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(
            json.dumps({"integration": integration} | checks_out(checks), ensure_ascii=False)
        )
    else:
        for check in checks:
            click.echo(f"{'ok' if check.ok else 'FAILED':<7} {check.name:<28} {check.message}")
            if check.what_to_do:
                click.echo(f"{'':<7} {'':<28} → {check.what_to_do}")
    if not all(check.ok for check in checks):
        raise SystemExit(1)
