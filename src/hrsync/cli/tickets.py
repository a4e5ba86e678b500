"""`hrsync tickets`: personnel-change tickets: list, show, comment, close."""

from __future__ import annotations

import json

import click

from hrsync.cli.django_setup import known, setup_django


@click.group()
def tickets() -> None:
    """Personnel-change tickets: list, show, comment, close."""


@tickets.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only tickets still open.")
@click.option("--json", "as_json", is_flag=True)
def tickets_list(open_only: bool, as_json: bool) -> None:
    """List tickets, newest first."""
    setup_django()
    from hrsync.app.tickets.listing import list_tickets

    rows = list_tickets(open_only=open_only)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(
            f"#{row['id']:<6} {row['status']:<11} {row['source']:<9} {row['kind']:<7} "
            f"{row['employee_number']:<8} {row['person_name']} ({row['comment_count']} comments)"
        )


@tickets.command("show")
@click.argument("ticket_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def tickets_show(ticket_id: int, as_json: bool) -> None:
    """Show one ticket with its timeline."""
    setup_django()
    from hrsync.app.tickets.listing import show_ticket

    ticket = known(lambda: show_ticket(ticket_id))
    if as_json:
        click.echo(json.dumps(ticket, ensure_ascii=False))
        return
    click.echo(f"#{ticket['id']} {ticket['title']} [{ticket['status']}, {ticket['source']}]")
    timeline = sorted(ticket["comments"] + ticket["events"], key=lambda e: e["created"])
    for entry in timeline:
        click.echo(f"\n{entry['created']}  {entry['author']}\n{entry['text']}")


@tickets.command("comment")
@click.argument("ticket_id", type=int)
@click.argument("text")
def tickets_comment(ticket_id: int, text: str) -> None:
    """Add a comment to a ticket (as the system user until the console brings sign-in)."""
    setup_django()
    from hrsync.app.models import Ticket
    from hrsync.app.tickets import desk as service

    ticket = known(lambda: Ticket.objects.get(pk=ticket_id))
    service.add_comment(ticket, text)
    click.echo(f"commented on #{ticket_id}")


@tickets.command("close")
@click.argument("ticket_id", type=int)
@click.option("--comment", "text", default="Closed by hand.", show_default=True)
def tickets_close(ticket_id: int, text: str) -> None:
    """Close a ticket with a closing comment."""
    setup_django()
    from hrsync.app.models import Ticket
    from hrsync.app.runs.connection_run import run_connection
    from hrsync.app.tickets import desk as service
    from hrsync.app.triggers import DefaultActions, Dispatcher

    ticket = known(lambda: Ticket.objects.get(pk=ticket_id))
    events = Dispatcher.load(DefaultActions(run_connection))
    service.close(ticket, text, events=events)
    events.flush()
    click.echo(f"closed #{ticket_id}")
