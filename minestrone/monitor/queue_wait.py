"""How long tasks waited in the queue (sent → started), per task name: a histogram for the
metrics and percentiles for the dashboard, over the tasks whose last event is recent."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connections
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet

from minestrone.monitor.charts import PERCENTILES, RuntimeStats, _percentile, histograms_by_name
from minestrone.monitor.models import TaskState

PERCENTILE_SQL = (
    "SELECT name, COUNT(*), "
    "percentile_cont(%s) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started - sent)), "
    "percentile_cont(%s) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started - sent)), "
    "percentile_cont(%s) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started - sent)) "
    "FROM monitor_taskstate "
    "WHERE tstamp >= %s AND tstamp <= %s AND started >= sent AND NOT hidden "
    "GROUP BY name ORDER BY COUNT(*) DESC LIMIT %s"
)


def _waited(since: datetime, until: datetime | None = None) -> QuerySet:
    """The tasks whose last event is since `since` and that started after being sent (a clock
    that ran behind the sender's is left out), each with its wait."""
    rows = TaskState.objects.filter(tstamp__gte=since, hidden=False, started__gte=F("sent"))
    if until is not None:
        rows = rows.filter(tstamp__lte=until)
    return rows.annotate(wait=ExpressionWrapper(F("started") - F("sent"), DurationField()))


def histogram_by_name(since: datetime, buckets: tuple[float, ...]) -> dict[str, list]:
    """{name: [count ≤ each bucket…, total count, total seconds]}, in one grouped query."""
    bounds = [timedelta(seconds=bound) for bound in buckets]
    return histograms_by_name(_waited(since), "wait", bounds, timedelta.total_seconds)


def percentiles(since: datetime, now: datetime, limit: int = 20) -> list[RuntimeStats]:
    """p50/p95/p99 waits per task name (the busiest `limit` names): in SQL on PostgreSQL,
    else in Python."""
    connection = connections[TaskState.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(PERCENTILE_SQL, [*PERCENTILES, since, now, limit])
            return [
                RuntimeStats(name or "unknown", n, p50, p95, p99)
                for name, n, p50, p95, p99 in cursor.fetchall()
            ]
    waits: dict[str, list[float]] = {}
    for name, wait in _waited(since, now).values_list("name", "wait"):
        waits.setdefault(name or "unknown", []).append(wait.total_seconds())
    stats = [
        RuntimeStats(name, len(values), *(_percentile(sorted(values), f) for f in PERCENTILES))
        for name, values in waits.items()
    ]
    stats.sort(key=lambda stat: (-stat.count, stat.name))
    return stats[:limit]
