"""`hrsync graph-sim`: run the Microsoft Graph simulator in the foreground for people and demos."""

from __future__ import annotations

import threading

import click

from hrsync.simulators.graph.control import Faults
from hrsync.simulators.graph.entra import App
from hrsync.simulators.graph.server import GraphSimulator


@click.command("graph-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8092, show_default=True, help="0 picks a free port.")
@click.option("--tenant", default="contoso.onmicrosoft.com", show_default=True, help="Tenant.")
@click.option(
    "--client-id",
    default="00000000-0000-0000-0000-000000000000",
    show_default=True,
    help="The app registration's client id.",
)
@click.option(
    "--client-secret",
    envvar="GRAPH_CLIENT_SECRET",
    default="secret",
    show_default="$GRAPH_CLIENT_SECRET, else 'secret'",
    help="The app registration's client secret.",
)
@click.option(
    "--organization",
    default="Contoso Ltd",
    show_default=True,
    help="The tenant's organisation name (GET /organization).",
)
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, help="Delay every request.")
@click.option("--verbose", is_flag=True, help="Log every request to stderr.")
def graph_sim(
    *,
    host: str,
    port: int,
    tenant: str,
    client_id: str,
    client_secret: str,
    organization: str,
    latency_ms: int,
    verbose: bool,
) -> None:
    """Serve a local Entra token endpoint and Microsoft Graph (users, managers, delta, $batch)
    until Ctrl-C."""
    app = App(tenant, client_id, client_secret, organization)
    sim = GraphSimulator(
        app, host, port, faults=Faults(latency_ms=latency_ms), log_requests=verbose
    )
    sim.start()
    click.echo(
        f"Graph simulator: login_url={sim.login_url} graph_url={sim.graph_url}; "
        f"tenant={tenant} client_id={client_id}; control at {sim.base_url}/_sim/. Ctrl-C stops."
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
