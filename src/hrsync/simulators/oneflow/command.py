"""`hrsync oneflow-sim`: run the Oneflow simulator in the foreground for people and demos."""

from __future__ import annotations

import threading

import click

from hrsync.simulators.oneflow.server import OneflowSimulator
from hrsync.simulators.oneflow.webhooks import Filter


def parse_webhook(text: str) -> tuple[str, tuple[Filter, ...]]:
    """`URL [events=a,b] [workspaces=1,2]` → the URL and its filter (none when no key=value)."""
    url, *options = text.split()
    events: set[str] = set()
    workspaces: set[int] = set()
    for option in options:
        key, _, values = option.partition("=")
        items = [v for v in values.split(",") if v]
        if key == "events":
            events.update(items)
        elif key == "workspaces":
            workspaces.update(int(v) for v in items)
        else:
            raise click.BadParameter(f"unknown webhook option {key!r}", param_hint="--webhook")
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--webhook")
    if not events and not workspaces:
        return url, ()
    return url, (Filter(frozenset(events), frozenset(workspaces)),)


@click.command("oneflow-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8090, show_default=True, help="0 picks a free port.")
@click.option(
    "--token",
    envvar="ONEFLOW_TOKEN",
    default="oneflow-token",
    show_default="$ONEFLOW_TOKEN, else 'oneflow-token'",
    help="The API token (x-oneflow-api-token).",
)
@click.option(
    "--users",
    "users",
    multiple=True,
    default=("hr@acme.example",),
    show_default=True,
    help="E-mail of an Oneflow user (repeatable; the first acts for __CREATOR__ without a "
    "contract).",
)
@click.option(
    "--sign-key",
    envvar="ONEFLOW_SIGN_KEY",
    default="sign-key",
    show_default="$ONEFLOW_SIGN_KEY, else 'sign-key'",
    help="Sign key of the webhooks given with --webhook.",
)
@click.option(
    "--webhook",
    "webhooks",
    multiple=True,
    help="'URL [events=contract:sign,contract:publish] [workspaces=1]' (repeatable).",
)
@click.option(
    "--time-factor",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Webhook retry waits (1, 5, 10 … 3600 s) are this many times shorter.",
)
@click.option(
    "--pdf-delay", type=click.FloatRange(min=0), default=0.0, help="Seconds until a PDF is ready."
)
@click.option("--verbose", is_flag=True, help="Log every request to stderr.")
def oneflow_sim(
    *,
    host: str,
    port: int,
    token: str,
    users: tuple[str, ...],
    sign_key: str,
    webhooks: tuple[str, ...],
    time_factor: float,
    pdf_delay: float,
    verbose: bool,
) -> None:
    """Serve a local Oneflow API (/v1) with webhooks until Ctrl-C.

    /_sim/contracts/ID/sign, /decline and /expire (POST) act as the signatories would;
    GET /_sim/deliveries lists every webhook delivery attempt."""
    parsed = [parse_webhook(text) for text in webhooks]
    sim = OneflowSimulator(
        token=token,
        users=users,
        sign_key=sign_key,
        host=host,
        port=port,
        time_factor=time_factor,
        pdf_delay=pdf_delay,
        log_requests=verbose,
    )
    for url, filters in parsed:
        sim.api.add_webhook(url, None, filters)
    sim.start()
    click.echo(
        f"Oneflow simulator: {sim.url}; users {', '.join(users)}; "
        f"{len(parsed)} webhook(s); time factor {time_factor:g}. Ctrl-C stops."
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
