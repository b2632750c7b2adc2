"""Hourly summaries of the finished tasks of settled hours, so that the day's dashboard reads a
few hundred summary rows and the last hour's tasks instead of every task of the day.

An hour is summed up once it ended ``SETTLE`` ago, by the camera's cleanup or by the first
chart that needs it sooner; a finished task written later into an hour already summed up (the
camera's backlog after a database outage, a late event), or moved out of one, makes the store
forget that summary, so that it is summed up again. The forgetting and the summing up of an
hour hold that hour's lock (``hours_held``), so that neither misses the other. Tasks
not finished yet are always counted from the task table (the state index finds them).
Runtimes are kept as histograms with buckets ``GROWTH`` apart, so the day's percentiles are
within half a bucket (±2.5 %) of the exact ones.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Case, Count, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Ceil, Ln
from django.utils import timezone

from minestrone.monitor import states
from minestrone.monitor.models import HourCount, HourRuntimes, SummarisedHour, TaskState

HOUR = timedelta(hours=1)
SETTLE = timedelta(minutes=15)  # late events of an hour's tasks are in by then
KEEP = timedelta(days=2)  # summaries older than this are of no window any more
LOWEST = 0.001  # seconds: bucket 0 holds every runtime up to a millisecond
GROWTH = 1.05  # each bucket ends this many times later than the one before
LONGEST = 1e7  # seconds (115 days): a longer runtime, an infinite or NaN one, is no runtime
LOCK_SPACE = 0x6D6F  # the first key of the hours' advisory locks (the second: the hour)
LOCK_NAME = "minestrone.hour.{}"  # MariaDB's named lock of an hour (its number since 1970)
LOCK_WAIT_SECONDS = 365 * 24 * 3600  # GET_LOCK's "no deadline" (MariaDB refuses a negative one)

Histogram = Counter  # {bucket index: runs}


def bucket(runtime: float) -> int:
    """The histogram bucket of a runtime in seconds."""
    if runtime <= LOWEST:
        return 0
    return math.ceil(math.log(runtime / LOWEST) / math.log(GROWTH))


def bucket_in_sql() -> Case:
    """``bucket(runtime)`` computed by the database (so that only counts come back)."""
    return Case(
        When(runtime__lte=LOWEST, then=Value(0)),
        default=Ceil(Ln(F("runtime") / Value(LOWEST)) / Value(math.log(GROWTH))),
        output_field=IntegerField(),
    )


def bucket_value(index: int) -> float:
    """The runtime a bucket stands for: its geometric middle (bucket 0: a millisecond)."""
    if index <= 0:
        return LOWEST
    return LOWEST * GROWTH ** (index - 0.5)


def histogram(runtimes: Iterable[float]) -> Histogram:
    """The histogram of runtimes in seconds."""
    return Counter(bucket(runtime) for runtime in runtimes)


def histograms_by_name(successes: QuerySet) -> dict[str | None, Histogram]:
    """{task name: histogram of its runtimes} of these successes, counted by the database."""
    found: dict[str | None, Histogram] = {}
    rows = (
        successes.filter(runtime__isnull=False, runtime__lte=LONGEST)
        .annotate(bucket=bucket_in_sql())
        .values_list("name", "bucket")
        .annotate(runs=Count("pk"))
        .order_by()
    )
    for name, index, runs in rows:
        found.setdefault(name, Histogram())[int(index)] += runs
    return found


def percentile(counts: Histogram, fraction: float) -> float:
    """A percentile of a histogram, interpolated between closest ranks as PostgreSQL's
    percentile_cont does between values."""
    total = sum(counts.values())
    position = (total - 1) * fraction
    low = int(position)
    high = min(low + 1, total - 1)
    below, above = _values_at(counts, low, high)
    return below + (above - below) * (position - low)


def _values_at(counts: Histogram, low: int, high: int) -> tuple[float, float]:
    found: dict[int, float] = {}
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        for rank in (low, high):
            if rank not in found and rank < seen:
                found[rank] = bucket_value(index)
        if high in found:
            break
    return found[low], found[high]


def hour_of(when: datetime) -> datetime:
    """The start of the local hour ``when`` falls in (where the database truncates it)."""
    return timezone.localtime(when).replace(minute=0, second=0, microsecond=0)


@contextlib.contextmanager
def hours_held(hours: Iterable[datetime]) -> Iterator[None]:
    """A transaction that holds these hours until it ended, so that the camera's forgetting of
    an hour and a summary of that hour never overlap: a summary counts after any late write of
    its hour committed, or its forgetting comes after it committed. Hours are taken oldest
    first (no deadlock between two writers). PostgreSQL: transaction-level advisory locks;
    MariaDB: named locks, which belong to the session, so they are taken before the
    transaction begins and released once it ended (call it outside any transaction). Elsewhere
    (SQLite) writers are serialised by the database already. A wait is bounded by the
    server's statement deadline, as any query's."""
    numbers = sorted({int(hour.timestamp()) // 3600 for hour in hours})
    connection = transaction.get_connection()
    held: list[str] = []
    try:
        if connection.vendor == "mysql":
            with connection.cursor() as cursor:
                for number in numbers:
                    name = LOCK_NAME.format(number)
                    cursor.execute("SELECT GET_LOCK(%s, %s)", [name, LOCK_WAIT_SECONDS])
                    if cursor.fetchone()[0] != 1:
                        raise OperationalError(f"the lock of hour {number} was not granted")
                    held.append(name)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    for number in numbers:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_SPACE, number])
            yield
    finally:
        if held:
            _release(connection, held)


def _release(connection, names: list[str]) -> None:
    """Release MariaDB's named locks (newest first); a lost session released them already."""
    with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
        for name in reversed(names):
            cursor.execute("SELECT RELEASE_LOCK(%s)", [name])


def forget(finished_at: Iterable[datetime], now: datetime | None = None) -> None:
    """Forget the summaries of the hours in which these finished tasks were just written (or
    were before); each hour is held first (``hours_held``)."""
    now = now or timezone.now()
    # a task of an hour that could have been summed up finished before now - SETTLE: the
    # others (nearly all of a snapshot's) are passed over without finding their hour
    settled = now - SETTLE
    hours = {hour_of(when) for when in finished_at if when < settled}
    hours = {hour for hour in hours if hour + HOUR + SETTLE <= now}  # could be summed up
    if not hours:  # most snapshots write into the current hour: no query at all
        return
    with hours_held(hours):
        SummarisedHour.objects.filter(hour__in=hours).delete()


def summed_hours_of(task_ids: list[str], now: datetime | None = None) -> list[datetime]:
    """The times of these tasks' finished rows that fall in hours that could be summed up: the
    hours a new observation may move them out of (one query, by primary key)."""
    now = now or timezone.now()
    if not task_ids:
        return []
    settled_before = hour_of(now - SETTLE - HOUR) + HOUR  # the first hour not summed up yet
    return list(
        TaskState.objects.filter(
            pk__in=task_ids, state__in=states.FINISHED_STATES, tstamp__lt=settled_before
        ).values_list("tstamp", flat=True)
    )


def settled_hours(periods: list[datetime], now: datetime) -> list[datetime]:
    """The hour-long periods that ended ``SETTLE`` before ``now`` (oldest first)."""
    return [start for start in periods if start + HOUR + SETTLE <= now]


def ensure_summarised(hours: list[datetime]) -> None:
    """Sum up each of these hours that is not yet."""
    done = set(SummarisedHour.objects.filter(hour__in=hours).values_list("hour", flat=True))
    for hour in hours:
        if hour not in done:
            summarise(hour)


def counts(hours: list[datetime]) -> list[tuple[datetime, str, str | None, str | None, int]]:
    """(hour, state, name, worker, tasks) of the finished tasks of these hours."""
    ensure_summarised(hours)
    return list(
        HourCount.objects.filter(summary__hour__in=hours)
        .values_list("summary__hour", "state", "name", "worker", "tasks")
        .order_by()
    )


def runtimes(hours: list[datetime]) -> dict[str | None, Histogram]:
    """{task name: histogram of its successes' runtimes} over these hours."""
    ensure_summarised(hours)
    merged: dict[str | None, Histogram] = {}
    rows = HourRuntimes.objects.filter(summary__hour__in=hours).values_list("name", "runs")
    for name, runs in rows.order_by():
        merged.setdefault(name, Histogram()).update({int(k): v for k, v in runs.items()})
    return merged


def summarise(hour: datetime) -> None:
    """Sum up the finished tasks of one hour (once: a second caller finds it done)."""
    with hours_held([hour]):  # the tasks are counted after any late write of the hour committed
        summary, created = SummarisedHour.objects.get_or_create(hour=hour)
        if not created:
            return
        finished = TaskState.objects.filter(
            tstamp__gte=hour, tstamp__lt=hour + HOUR, hidden=False, state__in=states.FINISHED_STATES
        )
        counted = finished.values_list("state", "name", "worker").annotate(n=Count("pk"))
        HourCount.objects.bulk_create(
            HourCount(summary=summary, state=state, name=name, worker=worker, tasks=n)
            for state, name, worker, n in counted.order_by()
        )
        by_name = histograms_by_name(finished.filter(state=states.SUCCESS))
        HourRuntimes.objects.bulk_create(
            HourRuntimes(summary=summary, name=name, runs={str(k): v for k, v in runs.items()})
            for name, runs in by_name.items()
        )
    SummarisedHour.objects.filter(hour__lt=hour - KEEP).delete()
