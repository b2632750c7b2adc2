"""The dashboard's and the metrics' queries: tasks per period by state and by name, runtime
percentiles, failures and per-worker throughput over a recent window of the TaskState table.

Every query is bounded by a range of `tstamp` (the table's time index), so its cost follows
the number of tasks in the window, not the table's size. The day's window reads the finished
tasks of its settled hours from their hourly summaries (``rollup``) and only the rest from the
task table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour, TruncMinute
from django.utils import timezone

from minestrone.monitor import rollup, states
from minestrone.monitor.models import QueueSample, TaskState

PERCENTILES = (0.5, 0.95, 0.99)
MAX_SERIES = 8  # task names drawn apart; the rest are summed as "other"
OTHER = "other"


@dataclass(frozen=True)
class Window:
    """A recent span of time and the width of its periods (a minute for an hour, an hour for
    a day)."""

    name: str
    length: timedelta
    step: timedelta

    def periods(self, now: datetime) -> list[datetime]:
        """The start of every period in the window, oldest first."""
        end = _floor(now, self.step)
        count = int(self.length / self.step)
        return [end - self.step * n for n in range(count - 1, -1, -1)]

    def start(self, now: datetime) -> datetime:
        """The start of the oldest period."""
        return self.periods(now)[0]


WINDOWS = {
    "hour": Window("hour", timedelta(hours=1), timedelta(minutes=1)),
    "day": Window("day", timedelta(days=1), timedelta(hours=1)),
}


def _floor(when: datetime, step: timedelta) -> datetime:
    if step >= timedelta(hours=1):
        return rollup.hour_of(when)
    # periods start where the database truncates them
    return timezone.localtime(when).replace(second=0, microsecond=0)


def in_window(window: Window, now: datetime) -> QuerySet:
    """The tasks whose last event falls in the window (a range of the tstamp index)."""
    return TaskState.objects.filter(tstamp__gte=window.start(now), tstamp__lte=now, hidden=False)


def _settled(window: Window, now: datetime) -> list[datetime]:
    """The window's periods read from hourly summaries: the settled hours of a day's window."""
    if window.step != rollup.HOUR:
        return []
    return rollup.settled_hours(window.periods(now), now)


def _not_summarised(window: Window, now: datetime, settled: list[datetime]) -> list[QuerySet]:
    """The window's tasks that no summary counts: every task after the settled hours (the time
    index), and the unfinished ones in them (the state and time index)."""
    tasks = in_window(window, now)
    if not settled:
        return [tasks]
    after = settled[-1] + window.step
    unfinished = [state for state in states.ALL_STATES if state not in states.FINISHED_STATES]
    return [
        tasks.filter(tstamp__gte=after),
        tasks.filter(tstamp__lt=after, state__in=unfinished),
    ]


def period_counts(window: Window, now: datetime) -> dict[str, dict[str, list[int]]]:
    """Tasks per period by state, by name, and finished per worker, in one scan of the
    window (and the summaries of its settled hours): {"state": series, "name": series,
    "worker": series}."""
    trunc = TruncMinute if window.step < timedelta(hours=1) else TruncHour
    settled = _settled(window, now)
    rows = [
        row
        for tasks in _not_summarised(window, now, settled)
        for row in tasks.annotate(period=trunc("tstamp"))
        .values_list("period", "state", "name", "worker")
        .annotate(n=Count("pk"))
        .order_by()
    ]
    rows += rollup.counts(settled)
    periods = window.periods(now)
    index = {period: n for n, period in enumerate(periods)}
    found: dict[str, dict[str, list[int]]] = {"state": {}, "name": {}, "worker": {}}

    def add(kind: str, key: str, slot: int, n: int) -> None:
        found[kind].setdefault(key, [0] * len(periods))[slot] += n

    for period, state, name, worker, n in rows:
        slot = index.get(period)
        if slot is None:
            continue
        add("state", state, slot, n)
        add("name", name or "unknown", slot, n)
        if worker and state in states.FINISHED_STATES:
            add("worker", worker, slot, n)
    return {kind: _fold_small(series) for kind, series in found.items()}


def per_period(
    window: Window, now: datetime, column: str, tasks: QuerySet | None = None
) -> dict[str, list[int]]:
    """{value of column: [count per period]}: tasks (of the window, or ``tasks``) per minute
    (or hour) by state, name or worker; values beyond MAX_SERIES are summed as "other"."""
    trunc = TruncMinute if window.step < timedelta(hours=1) else TruncHour
    rows = (
        (in_window(window, now) if tasks is None else tasks)
        .annotate(period=trunc("tstamp"))
        .values("period", column)
        .annotate(n=Count("pk"))
        .order_by()
    )
    periods = window.periods(now)
    index = {period: n for n, period in enumerate(periods)}
    series: dict[str, list[int]] = {}
    for row in rows:
        slot = index.get(row["period"])
        if slot is None:
            continue
        key = row[column] or "unknown"
        series.setdefault(key, [0] * len(periods))[slot] += row["n"]
    return _fold_small(series)


def _fold_small(series: dict[str, list[int]]) -> dict[str, list[int]]:
    if len(series) <= MAX_SERIES:
        return dict(sorted(series.items()))
    ranked = sorted(series, key=lambda key: -sum(series[key]))
    kept = {key: series[key] for key in sorted(ranked[: MAX_SERIES - 1])}
    rest = [series[key] for key in ranked[MAX_SERIES - 1 :]]
    kept[OTHER] = [sum(values) for values in zip(*rest, strict=True)]
    return kept


@dataclass(frozen=True)
class RuntimeStats:
    """Runtime percentiles of one task name's successes in the window, in seconds
    (``approximate``: read from histograms, within ±2.5 %)."""

    name: str
    count: int
    p50: float
    p95: float
    p99: float
    approximate: bool = False


def _percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""
    position = (len(values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


PERCENTILE_SQL = (
    "SELECT name, COUNT(*), "
    "percentile_cont(%s) WITHIN GROUP (ORDER BY runtime), "
    "percentile_cont(%s) WITHIN GROUP (ORDER BY runtime), "
    "percentile_cont(%s) WITHIN GROUP (ORDER BY runtime) "
    "FROM monitor_taskstate "
    "WHERE state = %s AND tstamp >= %s AND tstamp <= %s AND runtime IS NOT NULL "
    "AND NOT hidden GROUP BY name ORDER BY COUNT(*) DESC LIMIT %s"
)


def runtime_percentiles(window: Window, now: datetime, limit: int = 20) -> list[RuntimeStats]:
    """p50/p95/p99 runtimes of the successes in the window per task name (the busiest
    `limit` names): in SQL on PostgreSQL (through the state and time index), else in Python;
    a day's from its hourly summaries and its last hour's runtimes, within ±2.5 %."""
    settled = _settled(window, now)
    if settled:
        return _summarised_percentiles(window, now, settled, limit)
    start = window.start(now)
    connection = connections[TaskState.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(PERCENTILE_SQL, [*PERCENTILES, states.SUCCESS, start, now, limit])
            return [
                RuntimeStats(name or "unknown", n, p50, p95, p99)
                for name, n, p50, p95, p99 in cursor.fetchall()
            ]
    runtimes: dict[str, list[float]] = {}
    rows = (
        in_window(window, now)
        .filter(state=states.SUCCESS, runtime__isnull=False)
        .values_list("name", "runtime")
    )
    for name, runtime in rows:
        runtimes.setdefault(name or "unknown", []).append(runtime)
    stats = [
        RuntimeStats(name, len(values), *(_percentile(sorted(values), f) for f in PERCENTILES))
        for name, values in runtimes.items()
    ]
    stats.sort(key=lambda stat: (-stat.count, stat.name))
    return stats[:limit]


def _summarised_percentiles(
    window: Window, now: datetime, settled: list[datetime], limit: int
) -> list[RuntimeStats]:
    histograms: dict[str, rollup.Histogram] = {}
    recent = in_window(window, now).filter(
        tstamp__gte=settled[-1] + window.step, state=states.SUCCESS
    )
    for found in (rollup.runtimes(settled), rollup.histograms_by_name(recent)):
        for name, runs in found.items():
            histograms.setdefault(name or "unknown", rollup.Histogram()).update(runs)
    stats = [
        RuntimeStats(
            name,
            sum(runs.values()),
            *(rollup.percentile(runs, fraction) for fraction in PERCENTILES),
            approximate=True,
        )
        for name, runs in histograms.items()
    ]
    stats.sort(key=lambda stat: (-stat.count, stat.name))
    return stats[:limit]


def recent_failures(window: Window, now: datetime, limit: int = 10) -> list[TaskState]:
    """The latest failures in the window (the state and time index)."""
    return list(
        in_window(window, now)
        .filter(state=states.FAILURE)
        .order_by("-tstamp")
        .only("task_id", "name", "result", "worker", "tstamp")[:limit]
    )


def worker_throughput(window: Window, now: datetime) -> dict[str, list[int]]:
    """{worker: [tasks finished per period]} in the window."""
    finished = in_window(window, now).filter(state__in=states.FINISHED_STATES)
    return per_period(window, now, "worker", finished.exclude(worker=None))


def counts_by_name_and_state(since: datetime) -> list[tuple[str, str, int]]:
    """(name, state, tasks) of the tasks whose last event is after `since`."""
    rows = (
        TaskState.objects.filter(tstamp__gte=since, hidden=False)
        .values("name", "state")
        .annotate(n=Count("pk"))
        .order_by("name", "state")
    )
    return [(row["name"] or "unknown", row["state"], row["n"]) for row in rows]


def histograms_by_name(rows: QuerySet, field: str, bounds: list, seconds=float) -> dict:
    """{name: [count ≤ each bound…, total count, total seconds]} of a numeric or duration
    `field` of these rows, for a histogram, in one grouped query (`seconds` turns the
    field's sum into seconds)."""
    from django.db.models import Q, Sum

    aggregates = {
        f"le{n}": Count("pk", filter=Q(**{f"{field}__lte": bound}))
        for n, bound in enumerate(bounds)
    }
    grouped = (
        rows.values("name")
        .annotate(total=Count("pk"), seconds=Sum(field), **aggregates)
        .order_by("name")
    )
    return {
        (row["name"] or "unknown"): [
            *(row[f"le{n}"] for n in range(len(bounds))),
            row["total"],
            seconds(row["seconds"]) if row["seconds"] is not None else 0.0,
        ]
        for row in grouped
    }


def runtimes_by_name(since: datetime, buckets: tuple[float, ...]) -> dict[str, list]:
    """{name: [count ≤ each bucket…, total count, total runtime]} of successes since `since`."""
    successes = TaskState.objects.filter(
        tstamp__gte=since, hidden=False, state=states.SUCCESS, runtime__isnull=False
    )
    return histograms_by_name(successes, "runtime", list(buckets))


def queue_depth(window: Window, now: datetime, count: str = "ready") -> dict[str, list[int]]:
    """{queue: [the most messages `count` (ready or unacked) in each period]} from the
    camera's samples; samples that do not know the count are left out."""
    if count not in ("ready", "unacked"):
        raise ValueError(f"no such queue count: {count!r}")
    periods = window.periods(now)
    index = {period: n for n, period in enumerate(periods)}
    series: dict[str, list[int]] = {}
    samples = QueueSample.objects.filter(
        at__gte=periods[0], at__lte=now, **{f"{count}__isnull": False}
    ).values_list("queue", "at", count)
    for queue, at, ready in samples.order_by()[:100_000]:
        slot = index.get(_floor(at, window.step))
        if slot is not None:
            values = series.setdefault(queue, [0] * len(periods))
            values[slot] = max(values[slot], ready)
    return dict(sorted(series.items()))
