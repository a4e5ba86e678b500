"""`hrsync afas-sim`: run the AFAS Profit simulator in the foreground for people and demos."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import click

from hrsync.simulators.afas.generate import generate_dataset
from hrsync.simulators.afas.server import AfasSimulator, Token
from hrsync.simulators.afas.store import DatasetError, JsonObject, load_dataset

_DEFAULT_COUNT = 200


@click.command("afas-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8091, show_default=True, help="0 picks a free port.")
@click.option(
    "--token",
    envvar="AFAS_TOKEN",
    default="secret-token",
    show_default="$AFAS_TOKEN, else 'secret-token'",
    help="The <data> of the app connector token clients must send.",
)
@click.option(
    "--connector",
    "connectors",
    multiple=True,
    help="Let the token use only this GetConnector (repeatable); default: all.",
)
@click.option(
    "--dataset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Serve this dataset file ({"connectors": {id: [rows]}}).',
)
@click.option("--generate", "count", type=click.IntRange(min=0), help="Generate N employees.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for --generate.")
@click.option("--max-take", type=click.IntRange(min=1), help="Refuse a larger take (400).")
@click.option(
    "--save-dataset",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the served dataset to this file first.",
)
@click.option("--verbose", is_flag=True, help="Log every request to stderr.")
def afas_sim(
    *,
    host: str,
    port: int,
    token: str,
    connectors: tuple[str, ...],
    dataset: Path | None,
    count: int | None,
    seed: int,
    max_take: int | None,
    save_dataset: Path | None,
    verbose: bool,
) -> None:
    """Serve a local AFAS Profit REST API (GetConnectors, metainfo) until Ctrl-C.

    Without --dataset or --generate, 200 employees are generated.
    """
    records = _dataset(dataset, count, seed)
    if save_dataset is not None:
        text = json.dumps(records, ensure_ascii=False, indent=2)
        save_dataset.write_text(text + "\n", encoding="utf-8")
    allowed = Token(token, frozenset(connectors))
    sim = AfasSimulator(records, allowed, host, port, max_take=max_take, log_requests=verbose)
    sim.start()
    served = ", ".join(f"{cid} ({len(rows)})" for cid, rows in records["connectors"].items())
    click.echo(f"AFAS simulator: {sim.url}; connectors: {served}. Ctrl-C stops.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


def _dataset(path: Path | None, count: int | None, seed: int) -> JsonObject:
    if path is not None and count is not None:
        raise click.UsageError("--dataset and --generate exclude each other")
    if path is None:
        return generate_dataset(_DEFAULT_COUNT if count is None else count, seed)
    try:
        return load_dataset(path)
    except DatasetError as error:
        raise click.BadParameter(str(error), param_hint="--dataset") from None
