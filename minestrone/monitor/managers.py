"""The monitor's queries: the camera's bulk writes and cleanup, the admin's lookups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from django.db import connections, models
from django.utils import timezone

from minestrone.monitor import states
from minestrone.monitor.merge import TASK_RULES, WORKER_RULES
from minestrone.monitor.upsert import insert, upsert

BetweenBatches = Callable[[], bool] | None
# The columns of a task's timeline row (TaskEvent), as the camera and the admin's actions fill them.
EVENT_COLUMNS = ["task_id", "kind", "timestamp", "hostname", "detail"]


class BatchDeletingQuerySet(models.QuerySet):
    """A queryset whose rows can be deleted a bounded batch at a time."""

    def delete_in_batches(self, batch_size: int, between_batches: BetweenBatches = None) -> int:
        """Delete these rows batch_size at a time; stop early when between_batches() is False."""
        total = 0
        # MariaDB takes no LIMIT in an IN subquery: there the batch's keys are read first
        in_subquery = connections[self.db].features.allow_sliced_subqueries_with_in
        while True:
            keys = self.order_by().values("pk")[:batch_size]
            if not in_subquery:
                keys = list(keys.values_list("pk", flat=True))
            deleted, _ = self.model._base_manager.filter(pk__in=keys).delete()
            total += deleted
            if deleted < batch_size:
                return total
            if between_batches is not None and between_batches() is False:
                return total


class TaskStateQuerySet(BatchDeletingQuerySet):
    """Queries on recorded tasks."""

    def record(self, rows: Iterable[dict]) -> int:
        """Merge observations (sparse rows) into the table, in bulk; return how many tasks."""
        return upsert(self.model, TASK_RULES, rows, using=self.db)

    def holders(self, task_ids: Iterable[str]) -> set[str]:
        """The workers recorded holding these tasks (received or running, not finished)."""
        unfinished = self.filter(pk__in=list(task_ids)).exclude(state__in=states.FINISHED_STATES)
        return {worker for worker in unfinished.values_list("worker", flat=True) if worker}

    def visible(self) -> TaskStateQuerySet:
        """Tasks not hidden."""
        return self.filter(hidden=False)

    def newest_event_time(self) -> datetime | None:
        """The time of the latest recorded event, or None when there is no task."""
        return self.aggregate(newest=models.Max("tstamp"))["newest"]

    def expire(
        self,
        now: datetime,
        success: timedelta | None,
        errors: timedelta | None,
        unfinished: timedelta | None,
        batch_size: int,
        between_batches: BetweenBatches = None,
    ) -> int:
        """Delete tasks whose last event is older than their state's age; None keeps them."""
        kept = (states.SUCCESS, *states.ERROR_STATES)
        groups = [
            (success, self.filter(state=states.SUCCESS)),
            (errors, self.filter(state__in=states.ERROR_STATES)),
            (unfinished, self.exclude(state__in=kept)),
        ]
        deleted = 0
        for age, group in groups:
            if age is not None:
                old = group.filter(tstamp__lt=now - age)
                deleted += old.delete_in_batches(batch_size, between_batches)
        return deleted

    def distinct_values(self, column: str, limit: int = 200) -> list[str]:
        """The first `limit` distinct non-null values of an indexed column, in the whole table.

        A loose index scan (one index probe per value) instead of `SELECT DISTINCT`, which
        reads every row of a big table.
        """
        quote = connections[self.db].ops.quote_name
        table = quote(self.model._meta.db_table)
        name = quote(self.model._meta.get_field(column).column)
        # Identifiers are quoted by the backend; the only value is a parameter.
        sql = (
            f"WITH RECURSIVE found(value, n) AS ("  # noqa: S608
            f" SELECT MIN({name}), 1 FROM {table}"
            f" UNION ALL"
            f" SELECT (SELECT MIN({name}) FROM {table} WHERE {name} > found.value), n + 1"
            f" FROM found WHERE found.value IS NOT NULL AND n < %s"
            f") SELECT value FROM found WHERE value IS NOT NULL"
        )
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, [limit])
            return [value for (value,) in cursor.fetchall()]


class TaskEventQuerySet(BatchDeletingQuerySet):
    """Queries on the tasks' timelines."""

    def record(self, rows: Iterable[dict], batch_size: int = 1000) -> int:
        """Insert event rows in bulk (one statement per batch, all or nothing)."""
        return insert(self.model, EVENT_COLUMNS, rows, using=self.db, batch_size=batch_size)

    def record_actions(
        self, task_ids: list[str], kind: str, who: str, when: datetime, signal: str | None = None
    ) -> int:
        """Record that `who` asked for `kind` (such as "terminate requested") on these tasks."""
        detail = f"by {who}" + (f" ({signal})" if signal else "")
        rows = [
            {"task_id": task_id, "kind": kind, "timestamp": when, "detail": detail}
            for task_id in task_ids
        ]
        return self.record(rows)

    def timeline(self, task_id: str, limit: int = 200) -> list:
        """The task's first `limit` events, oldest first (the task and time index)."""
        return list(self.filter(task_id=task_id).order_by("timestamp", "id")[:limit])

    def expire(
        self, before: datetime, batch_size: int, between_batches: BetweenBatches = None
    ) -> int:
        """Delete the events older than `before`, in batches, through the time index."""
        return self.filter(timestamp__lt=before).delete_in_batches(batch_size, between_batches)


class TaskLimitQuerySet(models.QuerySet):
    """The limits set from the monitor, by task name."""

    def set_rate(self, name: str, rate: str, who: str, when: datetime) -> None:
        """Record a rate limit ("0" removes it)."""
        rate_limit = None if rate in ("0", "") else rate
        self.update_or_create(
            name=name, defaults={"rate_limit": rate_limit, "changed": when, "changed_by": who}
        )

    def set_time(
        self, name: str, soft: float | None, hard: float | None, who: str, when: datetime
    ) -> None:
        """Record soft and hard time limits (None: no limit)."""
        self.update_or_create(
            name=name,
            defaults={
                "soft_time_limit": soft,
                "time_limit": hard,
                "changed": when,
                "changed_by": who,
            },
        )

    def commands(self) -> list[tuple[str, tuple, dict]]:
        """The remote-control commands that apply every recorded limit again."""
        found = []
        for limit in self.order_by("name"):
            if limit.rate_limit:
                found.append(("rate_limit", (limit.name, limit.rate_limit), {}))
            if limit.soft_time_limit is not None or limit.time_limit is not None:
                found.append(
                    (
                        "time_limit",
                        (limit.name,),
                        {"soft": limit.soft_time_limit, "hard": limit.time_limit},
                    )
                )
        return found


MAX_PROBES = 400


def _period_starts(first: date, last: date, kind: str) -> list[date]:
    """The first day of every year, month or day from first to last (both included)."""
    if kind == "year":
        return [date(year, 1, 1) for year in range(first.year, last.year + 1)]
    if kind == "month":
        months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
        return [date(m // 12, m % 12 + 1, 1) for m in months]
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _next_period(start: date, kind: str) -> date:
    if kind == "year":
        return date(start.year + 1, 1, 1)
    if kind == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


class DateProbingQuerySet(TaskStateQuerySet):
    """Tasks for the admin: the date hierarchy's years, months and days are found by one
    index probe each (the first row of a time range), not by a DISTINCT over every row."""

    def datetimes(self, field_name: str, kind: str, order: str = "ASC", tzinfo=None) -> list:
        """The periods that hold rows, as aware datetimes in the current time zone."""
        if kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order, tzinfo)
        zone = tzinfo or timezone.get_current_timezone()
        bounds = self.aggregate(first=models.Min(field_name), last=models.Max(field_name))
        if bounds["first"] is None:
            return []
        first = timezone.localtime(bounds["first"], zone).date()
        last = timezone.localtime(bounds["last"], zone).date()
        starts = _period_starts(first, last, kind)
        if len(starts) > MAX_PROBES:
            return super().datetimes(field_name, kind, order, tzinfo)
        ranges = [
            (_aware(start, zone), _aware(_next_period(start, kind), zone)) for start in starts
        ]
        found = self._exists_each(
            [
                self.filter(**{f"{field_name}__gte": a, f"{field_name}__lt": b}).order_by(
                    field_name
                )
                for a, b in ranges
            ]
        )
        periods = [begin for (begin, _), hit in zip(ranges, found, strict=True) if hit]
        return periods if order == "ASC" else periods[::-1]

    def _exists_each(self, querysets: list[models.QuerySet]) -> list[bool]:
        """For each queryset, whether it has a row: one round trip for all of them.

        Each is a scalar subquery that keeps its order and LIMIT 1, so that the database walks
        the time index from the range's start and stops at the first row (PostgreSQL plans an
        EXISTS without its ORDER BY, and may then read most of the table).
        """
        parts, params = [], []
        for queryset in querysets:
            query = queryset.values("pk")[:1].query
            sql, sql_params = query.get_compiler(using=self.db).as_sql()
            parts.append(f"({sql}) IS NOT NULL")
            params.extend(sql_params)
        with connections[self.db].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            return [bool(value) for value in cursor.fetchone()]


def _aware(day: date, zone) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day), zone)


class WorkerStateQuerySet(models.QuerySet):
    """Queries on recorded workers."""

    def record(self, rows: Iterable[dict]) -> int:
        """Merge worker observations into the table, in bulk; return how many workers."""
        return upsert(self.model, WORKER_RULES, rows, using=self.db)

    def online(self, now: datetime) -> WorkerStateQuerySet:
        """Workers whose last heartbeat has not expired at `now`."""
        return self.filter(heartbeat_expires__gt=now)

    def online_now(self) -> int:
        """How many workers are online now: a command to all stops waiting once they answered."""
        return self.online(timezone.now()).count()

    def offline(self, now: datetime) -> WorkerStateQuerySet:
        """Workers whose last heartbeat expired at or before `now`, or who never sent one."""
        return self.exclude(heartbeat_expires__gt=now)

    def newest_heartbeat(self) -> datetime | None:
        """The latest heartbeat of any worker, or None."""
        return self.aggregate(newest=models.Max("last_heartbeat"))["newest"]

    def purge_offline(self, now: datetime, after: timedelta | None) -> int:
        """Delete the workers offline for longer than `after` (None keeps them)."""
        if after is None:
            return 0
        deleted, _ = self.filter(heartbeat_expires__lt=now - after).delete()
        return deleted
