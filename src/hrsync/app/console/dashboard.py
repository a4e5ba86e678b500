"""The dashboard: runs of the last 14 days as a chart, open tickets, connections needing a look."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from hrsync.app.console.access import role_required
from hrsync.app.console.responses import render_page
from hrsync.app.models import Connection, Run, Ticket
from hrsync.app.security.roles import Role
from hrsync.app.sources.looks import describe_source

DAYS = 14
CHARTED = (Run.Status.SUCCEEDED, Run.Status.FAILED, Run.Status.HELD)
LATEST_TICKETS = 8

# The chart's geometry, in SVG user units (it scales to the width it is given).
BAR_WIDTH, GAP, PLOT_HEIGHT, LABEL_HEIGHT, TOP = 28, 12, 160, 34, 16


@dataclass(frozen=True, slots=True)
class Segment:
    status: str
    count: int
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    counts: dict[str, int]
    x: int
    segments: list[Segment]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def center(self) -> float:
        return self.x + BAR_WIDTH / 2


@role_required(Role.VIEWER)
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    bars = chart_bars(count_runs(today), today)
    open_tickets = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
    latest = list(open_tickets.select_related("person", "source").order_by("-pk")[:LATEST_TICKETS])
    return render_page(
        request,
        "hrsync/dashboard/dashboard.html",
        {
            "bars": bars,
            "statuses": [str(s) for s in CHARTED],
            "chart_width": DAYS * (BAR_WIDTH + GAP) + GAP,
            "chart_height": TOP + PLOT_HEIGHT + LABEL_HEIGHT,
            "top": TOP,
            "axis_y": TOP + PLOT_HEIGHT,
            "day_y": TOP + PLOT_HEIGHT + 14,
            "month_y": TOP + PLOT_HEIGHT + 28,
            "bar_width": BAR_WIDTH,
            "run_total": sum(bar.total for bar in bars),
            "busiest": max(bar.total for bar in bars),
            "open_count": open_tickets.count(),
            "latest": [(ticket, describe_source(ticket.source)) for ticket in latest],
            "failing": list(failing_connections()),
            "overdue": list(overdue_connections()),
        },
    )


def count_runs(today: date) -> dict[tuple[date, str], int]:
    """Runs per local day and status since 13 days before `today` (simulations left out)."""
    since = timezone.make_aware(datetime.combine(today - timedelta(days=DAYS - 1), time.min))
    rows = (
        Run.objects.filter(started__gte=since, status__in=CHARTED, is_simulation=False)
        .annotate(day=TruncDate("started"))
        .values("day", "status")
        .annotate(count=Count("pk"))
    )
    return {(row["day"], row["status"]): row["count"] for row in rows}


def chart_bars(counts: dict[tuple[date, str], int], today: date) -> list[DayBar]:
    """One stacked bar per day, oldest first, scaled to the busiest day."""
    days = [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]
    per_day = [{str(s): counts.get((day, str(s)), 0) for s in CHARTED} for day in days]
    busiest = max((sum(c.values()) for c in per_day), default=0) or 1
    return [
        DayBar(day, day_counts, GAP + index * (BAR_WIDTH + GAP), _stack(day_counts, busiest))
        for index, (day, day_counts) in enumerate(zip(days, per_day, strict=True))
    ]


def _stack(counts: dict[str, int], busiest: int) -> list[Segment]:
    """Segments from the bottom up: succeeded, then failed, then held."""
    segments, top = [], float(TOP + PLOT_HEIGHT)
    for status, count in counts.items():
        height = PLOT_HEIGHT * count / busiest
        top -= height
        if count:
            segments.append(Segment(status, count, round(top, 1), round(height, 1)))
    return segments


def failing_connections() -> QuerySet[Connection]:
    """Connections whose last (real) run failed, with its error."""
    latest = Run.objects.filter(connection=OuterRef("pk"), is_simulation=False).order_by(
        "-started", "-pk"
    )
    return (
        Connection.objects.annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_error=Subquery(latest.values("error")[:1]),
        )
        .filter(last_status=Run.Status.FAILED)
        .order_by("key")
    )


def overdue_connections() -> QuerySet[Connection]:
    """Active connections whose next run should have started already."""
    return Connection.objects.filter(
        state=Connection.State.ACTIVE, next_run_at__lt=timezone.now()
    ).order_by("next_run_at")
