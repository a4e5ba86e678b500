"""`hrsync flexhrm-sim`: run the Flex HRM simulator in the foreground for people and demos."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import click

from hrsync.simulators.flexhrm.generate import generate_dataset
from hrsync.simulators.flexhrm.records import ALL_PERMISSIONS
from hrsync.simulators.flexhrm.server import Credentials, FlexSimulator
from hrsync.simulators.flexhrm.store import DatasetError, JsonObject, load_dataset

_DEFAULT_COUNT = 200


@click.command("flexhrm-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8081, show_default=True, help="0 picks a free port.")
@click.option("--instance", default="acme", show_default=True, help="Instance (customer).")
@click.option("--username", default="api", show_default=True, help="API user name.")
@click.option(
    "--password",
    envvar="FLEX_PASSWORD",
    default="secret",
    show_default="$FLEX_PASSWORD, else 'secret'",
    help="API user password.",
)
@click.option(
    "--company-id",
    "company_ids",
    multiple=True,
    help="Restrict the API user to this company (repeatable); default: all companies.",
)
@click.option(
    "--permission",
    "permissions",
    multiple=True,
    type=click.Choice(sorted(ALL_PERMISSIONS)),
    help="Give the API user only these permissions (repeatable); default: all.",
)
@click.option(
    "--dataset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve this v2 dataset file.",
)
@click.option("--generate", "count", type=click.IntRange(min=0), help="Generate N employees.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for --generate.")
@click.option("--envelope/--no-envelope", default=False, help="Wrap lists as {items, totalCount}.")
@click.option(
    "--save-dataset",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the served dataset to this file first.",
)
@click.option("--verbose", is_flag=True, help="Log every request to stderr.")
def flexhrm_sim(
    *,
    host: str,
    port: int,
    instance: str,
    username: str,
    password: str,
    company_ids: tuple[str, ...],
    permissions: tuple[str, ...],
    dataset: Path | None,
    count: int | None,
    seed: int,
    envelope: bool,
    save_dataset: Path | None,
    verbose: bool,
) -> None:
    """Serve a local Flex HRM API (both dialects) until Ctrl-C.

    Without --dataset or --generate, 200 employees are generated.
    """
    records = _dataset(dataset, count, seed)
    if save_dataset is not None:
        text = json.dumps(records, ensure_ascii=False, indent=2)
        save_dataset.write_text(text + "\n", encoding="utf-8")
    granted = frozenset(permissions) or ALL_PERMISSIONS
    user = Credentials(instance, username, password, frozenset(company_ids), granted)
    sim = FlexSimulator(records, user, host, port, envelope=envelope, log_requests=verbose)
    sim.start()
    click.echo(
        f"Flex HRM simulator: {sim.url} (camelCase), {sim.legacy_url} (PascalCase); "
        f"instance={instance} username={username}; "
        f"{len(records.get('employees', []))} employees. Ctrl-C stops."
    )
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
