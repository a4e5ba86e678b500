"""Probes for load balancers and Kubernetes: /healthz (the process answers) and /readyz (the
parts hrsync needs answer, and the last import and run of each went well).

Both are unauthenticated, as probes are; so they name parts and states only, never an error
text (it may hold a URL, a user name or HR data) and never a person (docs/operations/health.md).
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from hrsync.app import models
from hrsync.app.jobs.queue import get_huey
from hrsync.app.sources.manual import MANUAL_KEY

OK = "ok"
FAILING_STATES = frozenset({"failed"})
"""A last import or run in one of these states makes hrsync not ready: an operator must look.
A held run or import waits for a person on purpose and is not a failure of hrsync."""


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up: no database, no queue, so a slow database never restarts it."""
    return JsonResponse({"status": "ok"})


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every check is ok, else 503 naming the failing checks."""
    checks = {"database": check_database(), "queue": check_queue()}
    if checks["database"] == OK:
        checks |= check_sources() | check_connections()
    failing = sorted(name for name, state in checks.items() if state != OK)
    body = {"status": "not ready" if failing else "ready", "checks": checks, "failing": failing}
    return JsonResponse(body, status=503 if failing else 200)


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "unreachable"
    return OK


def check_queue() -> str:
    """The queue's storage answers a size question (Redis, PostgreSQL or the SQLite file)."""
    try:
        get_huey().storage.queue_size()
    except Exception:  # every storage raises its own library's errors; any means unreachable
        return "unreachable"
    return OK


def check_sources() -> dict[str, str]:
    """`source:KEY` → ok, or the state of its last import when that failed; the built-in
    `manual` source is never imported, so it is not a check."""
    checks = {}
    for source in models.Source.objects.exclude(key=MANUAL_KEY).order_by("key"):
        last = source.imports.order_by("-started", "-pk").values_list("status", flat=True).first()
        checks[f"source:{source.key}"] = _state(last)
    return checks


def check_connections() -> dict[str, str]:
    """`connection:KEY` → ok, or the state of its last run when that failed (active ones only:
    a draft or a deactivated connection is nobody's outage)."""
    checks = {}
    active = models.Connection.objects.filter(state=models.Connection.State.ACTIVE)
    for row in active.order_by("key"):
        last = row.runs.order_by("-started", "-pk").values_list("status", flat=True).first()
        checks[f"connection:{row.key}"] = _state(last)
    return checks


def _state(last: str | None) -> str:
    return last if last in FAILING_STATES else OK
