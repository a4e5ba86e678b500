"""`hrsync run` and `hrsync runs`: run a connection; list, show, approve and reject its runs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from hrsync.cli.django_setup import known, setup_django
from hrsync.cli.progress import progress

if TYPE_CHECKING:
    from hrsync.app.runs.plan_diff import AttributeChange


@click.command("run")
@click.argument("connection")
@click.option("--simulate", is_flag=True, help="Plan only: change nothing in the target.")
@click.option("--force", is_flag=True, help="Apply a plan the safety gate would hold.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="With --simulate: plan as if it were this day (or time) in the connection's zone.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def run_command(
    connection: str, simulate: bool, force: bool, as_of: datetime | None, as_json: bool
) -> None:
    """Run CONNECTION: read the target, plan, and apply (unless --simulate)."""
    if as_of is not None and not simulate:
        # Applying as of another day would act on dates that have not come (or long passed).
        raise click.UsageError("--as-of plans only: use it with --simulate")
    setup_django()
    from hrsync.app.connection_settings.wiring import MissingSecretError
    from hrsync.app.runs.connection_run import run_connection
    from hrsync.domain.errors import TargetError

    with progress("Applying", as_json, total=0) as advance:
        try:
            summary = known(
                lambda: run_connection(
                    connection,
                    simulate=simulate,
                    force=force,
                    progress=advance,
                    now=as_of,
                )
            )
        except (TargetError, MissingSecretError) as error:
            raise click.ClickException(str(error)) from error
    result = summary.to_json()
    if as_json:
        click.echo(json.dumps(result))
        return
    planned = ", ".join(f"{k} {v}" for k, v in summary.plan.items() if v) or "nothing to do"
    click.echo(f"run {summary.run_id} {summary.status}: plan: {planned}")
    click.echo(f"applied {summary.applied}, failed {summary.failed}, deferred {summary.deferred}")
    for reason in summary.reasons:
        click.echo(f"safety gate: {reason}", err=True)
    if summary.status == "held":
        click.echo(
            f"review it, then: hrsync runs approve {summary.run_id}"
            f" (or: hrsync runs reject {summary.run_id} --reason TEXT)",
            err=True,
        )
    for note in summary.notes:
        click.echo(f"note: {note}", err=True)


@click.group()
def runs() -> None:
    """Connection runs: what ran, who or what started it, and how it ended."""


@runs.command("list")
@click.option("--limit", default=20, show_default=True, type=int, help="How many, newest first.")
@click.option(
    "--jobs",
    is_flag=True,
    help="The scheduler's jobs (imports and runs, queued, running, retrying or ended) instead.",
)
@click.option("--json", "as_json", is_flag=True)
def runs_list(limit: int, jobs: bool, as_json: bool) -> None:
    """List recent runs, newest first: who or what started each, when it was queued, started and
    finished, its attempts, the worker and the outcome."""
    setup_django()
    rows = _job_rows(limit) if jobs else _run_rows(limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        if jobs:
            click.echo(
                f"#{row['id']:<6} {row['kind']:<10} {row['key']:<16} {row['started_by']:<10} "
                f"{row['state']:<8} x{row['attempts']} {row['scheduled_for']:<26} "
                f"{row['worker'] or '-'} {row['error']}"
            )
            continue
        planned = ", ".join(f"{k} {v}" for k, v in row["plan"].items() if v) or "-"
        click.echo(
            f"#{row['id']:<6} {row['connection']:<16} {row['started_by']:<10} "
            f"{row['status']:<10} {row['started']:<33} {row['finished'] or '-':<33} {planned}"
        )


@runs.command("approve")
@click.argument("run_id", metavar="RUN", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def runs_approve(run_id: int, as_json: bool) -> None:
    """Apply the plan of RUN, held by the safety gate, exactly as it was held.

    Changes whose account changed since the plan was held are skipped, each with the reason;
    the next run plans them again."""
    setup_django()
    from hrsync.app.connections import lifecycle

    held = _run_by_id(run_id)
    try:
        applied = lifecycle.approve_run(held, "cli")
    except (lifecycle.LifecycleError, lifecycle.RunError) as error:
        raise click.ClickException(str(error)) from error
    skipped = list(
        applied.changes.filter(status="skipped").order_by("pk").values("kind", "ref", "error")
    )
    result = {
        "held_run": held.pk,
        "run_id": applied.pk,
        "status": applied.status,
        "applied": applied.applied,
        "failed": applied.failed,
        "skipped": [{"kind": s["kind"], "ref": s["ref"], "reason": s["error"]} for s in skipped],
    }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(
        f"run {held.pk} approved: applied by run {applied.pk} ({applied.status}): "
        f"applied {applied.applied}, failed {applied.failed}, skipped {len(skipped)}"
    )
    for change in skipped:
        click.echo(f"skipped {change['kind']} {change['ref']}: {change['error']}", err=True)


@runs.command("reject")
@click.argument("run_id", metavar="RUN", type=int)
@click.option("--reason", default="", help="Why; kept with the run and in the audit log.")
def runs_reject(run_id: int, reason: str) -> None:
    """Refuse the plan of RUN, held by the safety gate: nothing of it is applied."""
    setup_django()
    from hrsync.app.connections import lifecycle

    held = _run_by_id(run_id)
    try:
        lifecycle.reject_run(held, "cli", reason)
    except lifecycle.LifecycleError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"run {held.pk} rejected; nothing was applied")


@runs.command("plan")
@click.argument("run_id", metavar="RUN", type=int)
@click.option("--kind", default=None, help="Only changes of this kind (create, update, move, …).")
@click.option("--search", default=None, help="Only people whose name, number or DN contains it.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
)
def runs_plan(run_id: int, kind: str | None, search: str | None, fmt: str) -> None:
    """Show the plan of RUN per person: each change, old → new per attribute, and why — the
    rule that gave each value and the HR fields it read, as they were when the plan was made."""
    setup_django()
    from hrsync.app.connections import lifecycle

    run = _run_by_id(run_id)
    if fmt != "text":
        if kind or search:
            raise click.ClickException("--kind and --search narrow the text view only")
        click.echo(lifecycle.export_plan(run, fmt)[1].decode(), nl=False)
        return
    diff = lifecycle.plan_diff(run, kind=kind, search=search)
    for person in diff.people:
        click.echo(f"{person.name} #{person.employee_number}")
        for change in person.changes:
            status = f" [{change.status}]" if change.status else ""
            click.echo(f"  {change.kind} {change.ref} — {change.reason}{status}")
            for attribute in change.attributes:
                old = "—" if attribute.old is None else attribute.old
                new = "—" if attribute.new is None else attribute.new
                click.echo(f"    {_attribute_shown(attribute)}: {old} → {new}")
                if attribute.rule:
                    reads = f" reads {attribute.fields_text()}" if attribute.fields_read else ""
                    click.echo(f"      why: {attribute.rule_source} {attribute.rule}{reads}")
    if not diff.people:
        click.echo("no change matches" if kind or search else "the plan is empty")


def _run_by_id(run_id: int) -> Any:
    from hrsync.app.models import Run

    run = Run.objects.select_related("connection__source").filter(pk=run_id).first()
    if run is None:
        raise click.ClickException(f"there is no run {run_id} (hrsync runs list shows them)")
    return run


def _when(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def _run_rows(limit: int) -> list[dict[str, Any]]:
    from django.db.models import Prefetch

    from hrsync.app.models import JobRun, Run

    newest = Run.objects.select_related("connection").order_by("-pk")[:limit]
    runs = newest.prefetch_related(Prefetch("job_runs", queryset=JobRun.objects.order_by("pk")))
    rows = []
    for run in runs:
        job = next(iter(run.job_runs.all()), None)
        rows.append(
            {
                "id": run.pk,
                "connection": run.connection.key,
                "started_by": run.started_by,
                "status": run.status,
                "started": run.started.isoformat(),
                "finished": _when(run.finished),
                "plan": run.plan_counts,
                "job": None if job is None else job_row(job),
            }
        )
    return rows


def _job_rows(limit: int) -> list[dict[str, Any]]:
    from hrsync.app.models import JobRun

    return [job_row(job) for job in JobRun.objects.order_by("-pk")[:limit]]


def job_row(job: Any) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "key": job.key,
        "scheduled_for": job.scheduled_for.isoformat(),
        "started_by": job.started_by,
        "state": job.state,
        "attempts": job.attempts,
        "queued": _when(job.queued),
        "started": _when(job.started),
        "finished": _when(job.finished),
        "worker": job.worker,
        "error": job.error,
        "run": job.run_id,
        "import": job.source_import_id,
    }


def _attribute_shown(attribute: AttributeChange) -> str:
    """`mail (E-mail)`: the name to script and search by, the label people know."""
    label = attribute.label
    return f"{attribute.name} ({label})" if label and label != attribute.name else attribute.name
