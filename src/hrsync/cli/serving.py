"""`hrsync serve`, `worker` and `scheduler`: the long-running processes, and one scheduler tick."""

from __future__ import annotations

import json
import os
import sys

import click

from hrsync.cli.django_setup import setup_django, setup_service
from hrsync.cli.runs import job_row


@click.command("serve")
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
    setup_service()
    import signal

    import waitress
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    from hrsync.app.jobs.workers import Background

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
            **_proxy_options(),
        )
    finally:
        if background is not None:
            background.stop()


def _proxy_options() -> dict[str, object]:
    """Behind a TLS proxy (HRSYNC_BEHIND_PROXY=1), waitress believes the proxy's
    X-Forwarded-Proto, from the proxy's address only (HRSYNC_TRUSTED_PROXY, by default this
    host): the request is then known to have come over HTTPS."""
    if os.environ.get("HRSYNC_BEHIND_PROXY") != "1":
        return {}
    return {
        "trusted_proxy": os.environ.get("HRSYNC_TRUSTED_PROXY") or "127.0.0.1",
        "trusted_proxy_headers": {"x-forwarded-proto"},
        "clear_untrusted_proxy_headers": True,
    }


@click.group("scheduler", invoke_without_command=True)
@click.option(
    "--interval", default=5.0, show_default=True, type=click.FloatRange(0.5, 60), help="Seconds."
)
@click.pass_context
def scheduler_group(context: click.Context, interval: float) -> None:
    """The scheduler: record due imports and runs exactly once and put them on the queue.

    Without a subcommand it runs until stopped (SIGTERM or Ctrl-C); any number may run."""
    if context.invoked_subcommand is not None:
        return
    setup_service()
    import signal
    import threading

    from hrsync.app.jobs.workers import run_scheduler

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"hrsync scheduler: a step every {interval:g} s (queue: {_queue_label()})")
    run_scheduler(stop, interval)


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--processes", is_flag=True, help="Worker processes instead of threads (one core each)."
)
def worker(workers: int, processes: bool) -> None:
    """Run queued imports and connection runs until stopped. SIGTERM (systemd's stop): no new
    jobs, running ones get up to a minute to finish. Ctrl-C (SIGINT): stop at once."""
    setup_service()
    from hrsync.app.jobs.workers import consumer

    kind = "process" if processes else "thread"
    click.echo(f"hrsync worker: {workers} {kind}(s) on {_queue_label()}")
    consumer(workers, kind).run()


def _queue_label() -> str:
    """The queue URL without a password, for a start-up line."""
    from urllib.parse import urlsplit

    from hrsync.app.jobs.queue import queue_url

    parts = urlsplit(queue_url())
    host = parts.hostname or ""
    shown = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{shown}{parts.path}"


@scheduler_group.command("tick")
@click.option("--json", "as_json", is_flag=True)
def scheduler_tick(as_json: bool) -> None:
    """One tick: re-queue stuck work, queue what is due now, and run the queue in this process."""
    setup_django()
    import socket

    from django.utils import timezone

    from hrsync.app.jobs import scheduler, work

    now = timezone.now()
    requeued = scheduler.sweep(now)
    queued = scheduler.tick(now)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    ran = []
    while (job := work.claim_and_run(worker)) is not None:
        ran.append(job)
    rows = [job_row(job) for job in ran]
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
