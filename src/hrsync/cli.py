"""`hrsync …`: the command line, thin over the app's services."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from hrsync.app.logs import configure_logging
from hrsync.simulators.flexhrm.command import flexhrm_sim


def _setup_django() -> None:
    """Configure Django and bring the database schema up to date (quick when it is)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


@click.group()
@click.version_option(package_name="hrsync")
def main() -> None:
    """hrsync: HR-driven provisioning from Flex HRM to Active Directory and applications.

    Data lives in $HRSYNC_HOME (default ./.hrsync); set DATABASE_URL for PostgreSQL.
    """
    configure_logging()


main.add_command(flexhrm_sim)


@main.group()
def config() -> None:
    """Load sources and connections from a TOML file."""


@config.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def config_load(path: Path) -> None:
    """Create or update the sources and connections in PATH (idempotent)."""
    _setup_django()
    from hrsync.app.config_errors import ConfigError
    from hrsync.app.config_file import load_config

    try:
        summary = load_config(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    for label, names in (
        ("created", summary.created),
        ("updated", summary.updated),
        ("unchanged", summary.unchanged),
    ):
        if names:
            click.echo(f"{label}: {', '.join(names)}")


@main.command("import")
@click.argument("source")
@click.option("--full", is_flag=True, help="Fetch everyone, not only the modified-since window.")
@click.option(
    "--accept-shrink",
    is_flag=True,
    help="A full import, recorded even when it lists markedly fewer people than the last full "
    "one (after a held import, once you know why).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def import_command(source: str, full: bool, accept_shrink: bool, as_json: bool) -> None:
    """Import SOURCE into the person store and record personnel changes.

    A full import that lists markedly fewer people than the last full one is held by the
    shrink guard: nothing of it is recorded until it is run again with --accept-shrink."""
    _setup_django()
    from hrsync.app.imports import import_source
    from hrsync.domain.errors import SourceError

    accepted_by, full = ("cli", True) if accept_shrink else ("", full)
    with _progress("Importing", as_json, total=None) as advance:
        try:
            summary = _known(
                lambda: import_source(source, full=full, progress=advance, accepted_by=accepted_by)
            )
        except SourceError as error:
            raise click.ClickException(str(error)) from error
    counts: dict[str, Any] = summary.counts()
    if as_json:
        click.echo(json.dumps(counts | ({"held": summary.held} if summary.held else {})))
    else:
        click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
        if summary.invalid:
            click.echo(f"{summary.invalid} records set aside: hrsync invalid {source}", err=True)
    if summary.held and not as_json:
        click.echo(
            f"import {summary.import_id} held, nothing recorded: {summary.held}.\n"
            f"Once you know why, record it: hrsync import {source} --accept-shrink",
            err=True,
        )


@main.command("run")
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
    _setup_django()
    from hrsync.app.runs import run_connection
    from hrsync.app.wiring import MissingSecretError
    from hrsync.domain.errors import TargetError

    with _progress("Applying", as_json, total=0) as advance:
        try:
            summary = _known(
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


@main.command("invalid")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True)
def invalid_command(source: str, as_json: bool) -> None:
    """List the records of SOURCE's latest import that were set aside, with the reason."""
    _setup_django()
    from hrsync.app.models import Import

    latest = Import.objects.filter(source__key=source).order_by("-pk").first()
    rows = list(latest.invalid.values("source_ref", "reason")) if latest else []
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    for row in [] if as_json else rows:
        click.echo(f"{row['source_ref']}: {row['reason']}")


@main.group()
def tickets() -> None:
    """Personnel-change tickets: list, show, comment, close."""


@tickets.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only tickets still open.")
@click.option("--json", "as_json", is_flag=True)
def tickets_list(open_only: bool, as_json: bool) -> None:
    """List tickets, newest first."""
    _setup_django()
    from hrsync.app.ticket_listing import list_tickets

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
    _setup_django()
    from hrsync.app.ticket_listing import show_ticket

    ticket = _known(lambda: show_ticket(ticket_id))
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
    _setup_django()
    from hrsync.app import tickets as service
    from hrsync.app.models import Ticket

    ticket = _known(lambda: Ticket.objects.get(pk=ticket_id))
    service.add_comment(ticket, text)
    click.echo(f"commented on #{ticket_id}")


@tickets.command("close")
@click.argument("ticket_id", type=int)
@click.option("--comment", "text", default="Closed by hand.", show_default=True)
def tickets_close(ticket_id: int, text: str) -> None:
    """Close a ticket with a closing comment."""
    _setup_django()
    from hrsync.app import tickets as service
    from hrsync.app.models import Ticket
    from hrsync.app.triggers import Dispatcher

    ticket = _known(lambda: Ticket.objects.get(pk=ticket_id))
    events = Dispatcher.load()
    service.close(ticket, text, events=events)
    events.flush()
    click.echo(f"closed #{ticket_id}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="Web threads.")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(0, 64),
    help="Job worker threads; 0 runs neither workers nor the scheduler (they run elsewhere).",
)
def serve(host: str, port: int, threads: int, workers: int) -> None:
    """Serve the console and the REST API (waitress), with the scheduler and job workers.

    SIGTERM or Ctrl-C stops it; running jobs get up to a minute to finish."""
    _setup_django()
    import signal

    import waitress
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    from hrsync.app.workers import Background

    background = Background(workers) if workers else None
    # SIGTERM (systemd's stop) ends waitress like Ctrl-C, so the jobs running here may finish.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"hrsync console on http://{host}:{port}/  (API: http://{host}:{port}/api/docs)")
    if background is not None:
        click.echo(f"scheduler and {workers} job worker(s) in this process ({_queue_label()})")
        background.start()
    try:
        waitress.serve(
            StaticFilesHandler(get_wsgi_application()),
            host=host,
            port=port,
            threads=threads,
            ident="hrsync",
        )
    finally:
        if background is not None:
            background.stop()


@main.command("createadmin")
@click.argument("username")
@click.option("--password-env", help="Read the password from this environment variable.")
@click.option("--email", default="")
def createadmin(username: str, password_env: str | None, email: str) -> None:
    """Create (or reset) an admin without prompting when --password-env is given."""
    _setup_django()
    from django.contrib.auth.models import Group, User

    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise click.ClickException(f"the environment variable {password_env} is not set")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name="admin"))
    click.echo(f"{'created' if created else 'updated'} admin {username}")


@main.group()
def keys() -> None:
    """The keys that encrypt stored secrets."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a new encryption key and re-encrypt every stored secret with it."""
    _setup_django()
    from hrsync.app.secrets import SecretError, key_file, rotate

    try:
        count = rotate()
    except SecretError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"re-encrypted {count} secrets with a new key in {key_file()}; back it up")


@main.group()
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
    _setup_django()
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
    _setup_django()
    from hrsync.app import lifecycle

    held = _run_by_id(run_id)
    try:
        applied = lifecycle.approve_run(held, "cli")
    except (lifecycle.LifecycleError, lifecycle.RunError) as error:
        raise click.ClickException(str(error)) from error
    skipped = list(
        applied.changes.filter(status="skipped").order_by("pk").values("kind", "dn", "error")
    )
    result = {
        "held_run": held.pk,
        "run_id": applied.pk,
        "status": applied.status,
        "applied": applied.applied,
        "failed": applied.failed,
        "skipped": [{"kind": s["kind"], "dn": s["dn"], "reason": s["error"]} for s in skipped],
    }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(
        f"run {held.pk} approved: applied by run {applied.pk} ({applied.status}): "
        f"applied {applied.applied}, failed {applied.failed}, skipped {len(skipped)}"
    )
    for change in skipped:
        click.echo(f"skipped {change['kind']} {change['dn']}: {change['error']}", err=True)


@runs.command("reject")
@click.argument("run_id", metavar="RUN", type=int)
@click.option("--reason", default="", help="Why; kept with the run and in the audit log.")
def runs_reject(run_id: int, reason: str) -> None:
    """Refuse the plan of RUN, held by the safety gate: nothing of it is applied."""
    _setup_django()
    from hrsync.app import lifecycle

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
    _setup_django()
    from hrsync.app import lifecycle

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
            click.echo(f"  {change.kind} {change.dn} — {change.reason}{status}")
            for attribute in change.attributes:
                old = "—" if attribute.old is None else attribute.old
                new = "—" if attribute.new is None else attribute.new
                click.echo(f"    {attribute.name}: {old} → {new}")
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
                "job": None if job is None else _job_row(job),
            }
        )
    return rows


def _job_rows(limit: int) -> list[dict[str, Any]]:
    from hrsync.app.models import JobRun

    return [_job_row(job) for job in JobRun.objects.order_by("-pk")[:limit]]


def _job_row(job: Any) -> dict[str, Any]:
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


@main.group("scheduler", invoke_without_command=True)
@click.option(
    "--interval", default=5.0, show_default=True, type=click.FloatRange(0.5, 60), help="Seconds."
)
@click.pass_context
def scheduler_group(context: click.Context, interval: float) -> None:
    """The scheduler: record due imports and runs exactly once and put them on the queue.

    Without a subcommand it runs until stopped (SIGTERM or Ctrl-C); any number may run."""
    if context.invoked_subcommand is not None:
        return
    _setup_django()
    import signal
    import threading

    from hrsync.app.workers import run_scheduler

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"hrsync scheduler: a step every {interval:g} s (queue: {_queue_label()})")
    run_scheduler(stop, interval)


@main.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--processes", is_flag=True, help="Worker processes instead of threads (one core each)."
)
def worker(workers: int, processes: bool) -> None:
    """Run queued imports and connection runs until stopped. SIGTERM (systemd's stop): no new
    jobs, running ones get up to a minute to finish. Ctrl-C (SIGINT): stop at once."""
    _setup_django()
    from hrsync.app.workers import consumer

    kind = "process" if processes else "thread"
    click.echo(f"hrsync worker: {workers} {kind}(s) on {_queue_label()}")
    consumer(workers, kind).run()


def _queue_label() -> str:
    """The queue URL without a password, for a start-up line."""
    from urllib.parse import urlsplit

    from hrsync.app.job_queue import queue_url

    parts = urlsplit(queue_url())
    host = parts.hostname or ""
    shown = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{shown}{parts.path}"


@scheduler_group.command("tick")
@click.option("--json", "as_json", is_flag=True)
def scheduler_tick(as_json: bool) -> None:
    """One tick: re-queue stuck work, queue what is due now, and run the queue in this process."""
    _setup_django()
    import socket

    from django.utils import timezone

    from hrsync.app import scheduler

    now = timezone.now()
    requeued = scheduler.sweep(now)
    queued = scheduler.tick(now)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    ran = []
    while (job := scheduler.claim_and_run(worker)) is not None:
        ran.append(job)
    rows = [_job_row(job) for job in ran]
    if as_json:
        click.echo(json.dumps({"queued": len(queued), "requeued": len(requeued), "ran": rows}))
        return
    click.echo(f"queued {len(queued)}, re-queued {len(requeued)}, ran {len(rows)}")
    for row in rows:
        made = f"run {row['run']}" if row["run"] else f"import {row['import'] or '-'}"
        error = f": {row['error']}" if row["error"] else ""
        click.echo(
            f"{row['kind']} {row['key']} @ {row['scheduled_for']} {row['state']} ({made}){error}"
        )


@main.group()
def mapping() -> None:
    """A connection's attribute mapping."""


@mapping.command("test")
@click.argument("connection")
@click.argument("employee_number")
@click.option("--json", "as_json", is_flag=True)
def mapping_test(connection: str, employee_number: str, as_json: bool) -> None:
    """Show what CONNECTION makes of the person with EMPLOYEE_NUMBER: each attribute's value,
    the rule it came from (default or override) and the HR fields it read."""
    _setup_django()
    from hrsync.app.mapping_test import explain_mapping
    from hrsync.app.wiring import MissingSecretError

    try:
        found = _known(lambda: explain_mapping(connection, employee_number))
    except MissingSecretError as error:
        raise click.ClickException(str(error)) from error
    if not found:
        raise click.ClickException(
            f"no person with employee number {employee_number} in {connection}'s source "
            "(import it first: hrsync import SOURCE)"
        )
    if as_json:
        click.echo(json.dumps([item.to_json() for item in found], ensure_ascii=False))
        return
    for item in found:
        click.echo(f"{item.name} ({item.employee_number}, person {item.person_id})")
        click.echo(f"  CN={item.cn} in {item.parent_dn}")
        for row in item.attributes:
            read = ", ".join(row.fields_read) or "-"
            click.echo(f"  {row.attribute:<28} {row.value or '(empty)'}")
            click.echo(f"  {'':<28} {row.source}: {row.rule}   [reads {read}]")
            for step in row.steps:
                click.echo(f"  {'':<28}   {step}")
        for problem in item.problems:
            click.echo(f"  problem: {problem} (the attribute is left as it is)", err=True)


def _known(call: Callable[[], Any]) -> Any:
    """Turn 'no such source/connection' into a clear message instead of a traceback."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return call()
    except ObjectDoesNotExist as error:
        raise click.ClickException(f"not configured: {error} (see hrsync config load)") from error


@contextmanager
def _progress(label: str, quiet: bool, total: int | None) -> Iterator[Callable[..., None]]:
    """A rich progress bar on a terminal; silence otherwise."""
    if quiet or not sys.stderr.isatty():
        yield lambda *args: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total or None)

        yield advance
