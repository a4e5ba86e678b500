"""`hrsync …`: the command line, thin over the app's services.

`main` is the console-script entry point (`hrsync.cli:main`); each command module defines its
commands on their own and they are added to `main` here, so no module imports this package back.
"""

from __future__ import annotations

import click

from hrsync.app.logs import FORMATS, configure_logging
from hrsync.cli import admin, config, files, imports, oneflow, runs, serving, targets, tickets
from hrsync.simulators.afas.command import afas_sim
from hrsync.simulators.flexhrm.command import flexhrm_sim
from hrsync.simulators.graph.command import graph_sim
from hrsync.simulators.oneflow.command import oneflow_sim


@click.group()
@click.version_option(package_name="hrsync")
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default=None,
    help="Log lines on stderr: json, console (readable), or auto: JSON unless stderr is a "
    "terminal. Default: $HRSYNC_LOG_FORMAT, else auto.",
)
def main(log_format: str | None) -> None:
    """hrsync: HR-driven provisioning from Flex HRM to Active Directory and applications.

    Data lives in $HRSYNC_HOME (default ./.hrsync); set DATABASE_URL for PostgreSQL.
    """
    configure_logging(log_format)


main.add_command(afas_sim)
main.add_command(flexhrm_sim)
main.add_command(oneflow_sim)
main.add_command(graph_sim)
main.add_command(config.config)
main.add_command(config.mapping)
main.add_command(imports.import_command)
main.add_command(imports.invalid_command)
main.add_command(files.import_file_command)
main.add_command(runs.run_command)
main.add_command(runs.runs)
main.add_command(tickets.tickets)
main.add_command(oneflow.oneflow)
main.add_command(serving.serve)
main.add_command(serving.worker)
main.add_command(serving.scheduler_group)
main.add_command(targets.connections)
main.add_command(targets.scim)
main.add_command(admin.createadmin)
main.add_command(admin.keys)
main.add_command(admin.users)
