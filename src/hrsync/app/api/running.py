"""Start a run from a request and wait for it: the run record comes back, failed or not."""

from __future__ import annotations

from collections.abc import Collection

from hrsync.app.api.errors import ApiError, conflict
from hrsync.app.connection_settings import wiring
from hrsync.app.jobs.leases import ConnectionBusyError
from hrsync.app.models import Connection, Run
from hrsync.app.runs.connection_run import run_connection
from hrsync.domain.errors import TargetError


def run_active(connection: Connection, started_by: str, only: Collection[str] = ()) -> Run:
    """Run an active connection (for the people in `only`, when given); 409 unless active.

    A target that cannot be reached fails the run, which records the error: the caller reads
    it from the run rather than from an exception.
    """
    if connection.state != Connection.State.ACTIVE:
        raise conflict(f"{connection.key} is {connection.state}: only an active connection runs")
    latest = connection.runs.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        run_connection(connection.key, only=only, started_by=started_by[:64])
    except ConnectionBusyError as error:  # refused before a run was recorded
        raise conflict(str(error)) from error
    except (TargetError, wiring.MissingSecretError):
        pass  # the run record holds the error
    runs = Run.objects.select_related("connection").filter(connection=connection, pk__gt=latest)
    run = runs.order_by("-pk").first()
    if run is None:
        raise ApiError(409, "the run could not start", code="run_not_started")
    connection.last_run_at = run.finished
    connection.save(update_fields=["last_run_at", "updated"])
    return run
