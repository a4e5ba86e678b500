"""Prometheus metrics at /metrics, read from the database at each scrape.

The database is the record every process writes (the web process, workers, schedulers), so a
collector that reads it gives the same figures whichever process is scraped; counters kept in
one process's memory would see only its own work. The figures are totals of the stored rows:
they fall when old rows are pruned, which Prometheus reads as a counter reset.
"""

from __future__ import annotations

import hmac
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from hrsync.app import models

TOKEN_ENV = "HRSYNC_METRICS_TOKEN"  # noqa: S105 (the variable's name, not a token)
RUN_SECONDS_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
"""From a one-person on-change run to a full run of a large directory."""


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The exposition, to a caller with the bearer token; 401 otherwise, and always while
    HRSYNC_METRICS_TOKEN is unset (metrics off: they name sources and connections)."""
    if not is_authorised(request.headers.get("Authorization", ""), os.environ.get(TOKEN_ENV, "")):
        response = JsonResponse({"detail": "a bearer token is needed"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="hrsync metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


def is_authorised(header: str, token: str) -> bool:
    """`Bearer TOKEN`, compared in constant time so the answer's timing tells nothing."""
    scheme, _, given = header.partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def registry() -> CollectorRegistry:
    """A registry of hrsync's collector alone: process metrics of one web process would
    mislead where several processes do the work."""
    found = CollectorRegistry(auto_describe=False)
    found.register(StoreCollector())
    return found


class StoreCollector(Collector):
    """Every hrsync metric, computed from the stores when Prometheus asks."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield imports_total()
        yield runs_total()
        yield changes_total()
        yield personnel_changes_total()
        yield failures_total()
        yield from queue_gauges(now)
        yield scheduler_lag(now)
        yield run_seconds()
        yield connections_gauge()


def imports_total() -> CounterMetricFamily:
    metric = CounterMetricFamily(
        "hrsync_imports",
        "Imports by source, kind and outcome.",
        labels=["source", "kind", "outcome"],
    )
    rows = models.Import.objects.values("source__key", "is_full", "status").annotate(n=Count("pk"))
    for row in rows:
        kind = "full" if row["is_full"] else "delta"
        metric.add_metric([row["source__key"], kind, row["status"]], row["n"])
    return metric


def runs_total() -> CounterMetricFamily:
    metric = CounterMetricFamily(
        "hrsync_runs",
        "Connection runs by connection, kind (live or simulation) and outcome.",
        labels=["connection", "kind", "outcome"],
    )
    rows = models.Run.objects.values("connection__key", "is_simulation", "status")
    for row in rows.annotate(n=Count("pk")):
        kind = "simulation" if row["is_simulation"] else "live"
        metric.add_metric([row["connection__key"], kind, row["status"]], row["n"])
    return metric


def changes_total() -> CounterMetricFamily:
    """Planned changes of runs; outcome "planned" until applied (or in a simulation)."""
    metric = CounterMetricFamily(
        "hrsync_changes",
        "Run changes by connection, kind and outcome.",
        labels=["connection", "kind", "outcome"],
    )
    rows = models.RunChange.objects.values("run__connection__key", "kind", "status")
    for row in rows.annotate(n=Count("pk")):
        outcome = row["status"] or "planned"
        metric.add_metric([row["run__connection__key"], row["kind"], outcome], row["n"])
    return metric


def personnel_changes_total() -> CounterMetricFamily:
    metric = CounterMetricFamily(
        "hrsync_personnel_changes",
        "Personnel changes imports found, by source and kind (joiner, mover, leaver, …).",
        labels=["source", "kind"],
    )
    rows = models.PersonnelChange.objects.values("source_import__source__key", "kind")
    for row in rows.annotate(n=Count("pk")):
        metric.add_metric([row["source_import__source__key"], row["kind"]], row["n"])
    return metric


def failures_total() -> CounterMetricFamily:
    """Failed attempts of queued work, by job kind and error class (the exception's class;
    "lost" for an attempt whose worker vanished)."""
    metric = CounterMetricFamily(
        "hrsync_job_failures",
        "Failed job attempts by job kind, error class and whether they were retried.",
        labels=["kind", "error_class", "transient"],
    )
    for labels, count in sorted(count_failures(_histories()).items()):
        metric.add_metric(list(labels), count)
    return metric


def _histories() -> Iterable[tuple[str, list[dict[str, object]]]]:
    # A job done at its first attempt never failed; every other started job may have.
    once = Q(state=models.JobRun.State.DONE, attempts=1)
    tried = models.JobRun.objects.filter(attempts__gte=1).exclude(once)
    return tried.values_list("kind", "history").iterator()


def count_failures(
    histories: Iterable[tuple[str, list[dict[str, object]]]],
) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for kind, history in histories:
        for entry in history:
            if entry.get("outcome") in ("failed", "lost"):
                error_class = str(entry.get("error_class") or entry["outcome"])
                transient = "true" if entry.get("transient") else "false"
                counts[(kind, error_class, transient)] += 1
    return counts


def queue_gauges(now: datetime) -> Iterator[GaugeMetricFamily]:
    """Ready work only: a retry waiting for its time is not a backlog."""
    ready = models.JobRun.objects.filter(state=models.JobRun.State.QUEUED, queued__lte=now)
    found = ready.aggregate(depth=Count("pk"), oldest=Min("queued"))
    yield GaugeMetricFamily(
        "hrsync_queue_depth", "Jobs queued and due, not yet started.", value=found["depth"]
    )
    age = (now - found["oldest"]).total_seconds() if found["oldest"] else 0.0
    yield GaugeMetricFamily(
        "hrsync_queue_oldest_age_seconds", "How long the oldest due job has waited.", value=age
    )


def scheduler_lag(now: datetime) -> GaugeMetricFamily:
    """How far past its next run time the most overdue scheduled connection is: a scheduler
    that stopped ticking lets it grow without bound."""
    active = models.Connection.objects.filter(state=models.Connection.State.ACTIVE)
    earliest = active.exclude(schedule="").aggregate(at=Min("next_run_at"))["at"]
    lag = max(0.0, (now - earliest).total_seconds()) if earliest else 0.0
    return GaugeMetricFamily(
        "hrsync_scheduler_lag_seconds",
        "Seconds the most overdue active connection is past its next run time.",
        value=lag,
    )


def run_seconds() -> HistogramMetricFamily:
    """Finished runs' durations, counted per bucket by the database in one query."""
    duration = ExpressionWrapper(F("finished") - F("started"), output_field=DurationField())
    finished = models.Run.objects.filter(finished__isnull=False).annotate(duration=duration)
    buckets = {
        f"le_{index}": Count("pk", filter=Q(duration__lte=timedelta(seconds=bound)))
        for index, bound in enumerate(RUN_SECONDS_BUCKETS)
    }
    found = finished.aggregate(total=Count("pk"), seconds=Sum("duration"), **buckets)
    metric = HistogramMetricFamily(
        "hrsync_run_duration_seconds", "Duration of finished connection runs.", labels=[]
    )
    cumulative = [(str(bound), found[f"le_{i}"]) for i, bound in enumerate(RUN_SECONDS_BUCKETS)]
    total_seconds = found["seconds"].total_seconds() if found["seconds"] else 0.0
    metric.add_metric([], [*cumulative, ("+Inf", found["total"])], total_seconds)
    return metric


def connections_gauge() -> GaugeMetricFamily:
    """Connections by lifecycle state, and "held": active ones whose last run waits for an
    approval (the safety gate)."""
    metric = GaugeMetricFamily(
        "hrsync_connections", "Connections by state (held: last run held).", labels=["state"]
    )
    states = dict.fromkeys(models.Connection.State.values, 0)
    for row in models.Connection.objects.values("state").annotate(n=Count("pk")):
        states[row["state"]] = row["n"]
    states["held"] = count_held()
    for state, count in states.items():
        metric.add_metric([state], count)
    return metric


def count_held() -> int:
    active = models.Connection.objects.filter(state=models.Connection.State.ACTIVE)
    held = 0
    for row in active.only("pk"):
        last = row.runs.order_by("-started", "-pk").values_list("status", flat=True).first()
        held += last == models.Run.Status.HELD
    return held
