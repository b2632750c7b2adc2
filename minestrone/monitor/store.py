"""The camera's database: snapshots written and old rows cleaned up through the querysets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, connections
from django.utils.module_loading import import_string

from minestrone.errors import DATABASE_FAILURES
from minestrone.monitor import charts, rollup, states
from minestrone.monitor.conf import days, setting
from minestrone.monitor.errors import StoreUnavailable
from minestrone.monitor.models import (
    QueueSample,
    TaskEvent,
    TaskLimit,
    TaskState,
    WorkerState,
)
from minestrone.monitor.snapshot import Snapshot

logger = logging.getLogger(__name__)
# The dashboard shows a day at most.
QUEUE_SAMPLES_KEPT = timedelta(days=2)
# Events are kept as long as the longest-kept task.
EXPIRY_SETTINGS = ("EXPIRE_SUCCESS_DAYS", "EXPIRE_ERROR_DAYS", "EXPIRE_UNFINISHED_DAYS")


@dataclass(frozen=True)
class Cleanup:
    """What one cleanup deleted."""

    tasks: int
    workers: int


def _forget_connections() -> None:
    """Close this thread's connections, so the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DatabaseError:
            logger.debug("closing a broken connection failed", exc_info=True)


def _write_one(write: Callable[[list[dict]], int], row: dict, key: str) -> Exception | None:
    """Write one row; return (and log) the error if it fails for any reason but an outage."""
    try:
        write([row])
    except DATABASE_FAILURES:
        raise
    except Exception as exc:
        logger.error("dropped the row of %s: %s", row.get(key), exc)
        return exc
    return None


class DatabaseStore:
    """Write snapshots with one bulk upsert per batch; run the expiry of old rows."""

    def record(self, snapshot: Snapshot) -> None:
        """Write a snapshot; raise StoreUnavailable (and write nothing more) if the DB is down."""
        try:
            self._record_events(snapshot)
            tasks = list(snapshot.tasks.values())
            finished = [row for row in tasks if row.get("state") in states.FINISHED_STATES]
            before = self._summed_hours_of(finished)
            self._record(TaskState.objects.record, tasks, "task_id")
            rollup.forget([*(row["tstamp"] for row in finished if row.get("tstamp")), *before])
            self._record(WorkerState.objects.record, list(snapshot.workers.values()), "hostname")
        except DATABASE_FAILURES as exc:
            _forget_connections()
            raise StoreUnavailable(str(exc).strip() or type(exc).__name__) from exc

    def record_queue_depths(self, at: datetime, depths) -> None:
        """Keep one sample of each queue's depth (for the dashboard's chart)."""
        rows = [
            QueueSample(
                queue=d.name, at=at, ready=d.ready, consumers=d.consumers, unacked=d.unacked
            )
            for d in depths
            if not d.missing and d.ready is not None
        ]
        try:
            QueueSample.objects.bulk_create(rows)
        except DATABASE_FAILURES as exc:
            _forget_connections()
            raise StoreUnavailable(str(exc).strip() or type(exc).__name__) from exc

    def release(self) -> None:
        """Close this thread's database connections (a thread that wrote once, then ends)."""
        _forget_connections()

    def limit_commands(self) -> list[tuple[str, tuple, dict]]:
        """The commands that apply the recorded rate and time limits again."""
        try:
            return TaskLimit.objects.commands()
        except DATABASE_FAILURES as exc:
            _forget_connections()
            raise StoreUnavailable(str(exc).strip() or type(exc).__name__) from exc

    def _summed_hours_of(self, finished: list[dict]) -> list:
        """Where these tasks' rows were counted before (a finished row only changes for a
        finished observation); nothing when the table cannot be read for another reason than
        an outage (no table yet: the write that follows says what to do)."""
        try:
            return rollup.summed_hours_of([row["task_id"] for row in finished])
        except DATABASE_FAILURES:
            raise
        except DatabaseError as exc:
            logger.debug("no earlier hours of the snapshot's tasks: %s", exc)
            return []

    def _record_events(self, snapshot: Snapshot) -> None:
        """Insert the snapshot's events (all or nothing), then forget them, so that a retry
        after a later failure does not insert them twice; events the database refuses for
        another reason than an outage are logged and dropped."""
        if not snapshot.events:
            return
        try:
            TaskEvent.objects.record(snapshot.events)
        except DATABASE_FAILURES:
            raise
        except DatabaseError as exc:
            logger.error("dropped %d task events: %s", len(snapshot.events), exc)
        snapshot.events = []

    def _record(self, write: Callable[[list[dict]], int], rows: list[dict], key: str) -> None:
        """Write rows in bulk; if the batch fails for any reason but an outage, write them one
        by one, dropping (and logging) only the rows that fail."""
        try:
            write(rows)
        except DATABASE_FAILURES:
            raise
        except Exception as exc:
            logger.warning("bulk write refused (%s): writing %d rows one by one", exc, len(rows))
            errors = [_write_one(write, row, key) for row in rows]
            if rows and all(isinstance(error, DatabaseError) for error in errors):
                # Not the rows' fault: no table yet (before migrate), no permission... Keep the
                # snapshot for the next attempt, as for an outage.
                raise StoreUnavailable(f"the database refused every row: {exc}") from exc

    def cleanup(self, now: datetime, between_batches: Callable[[], bool] | None = None) -> Cleanup:
        """Delete expired tasks and long-offline workers, per the MONITOR_* settings, and what
        MONITOR_CLEANUP_CALLS delete; sum up the day's settled hours for the dashboard
        (``rollup``)."""
        try:
            tasks = TaskState.objects.expire(
                now,
                success=days("EXPIRE_SUCCESS_DAYS"),
                errors=days("EXPIRE_ERROR_DAYS"),
                unfinished=days("EXPIRE_UNFINISHED_DAYS"),
                batch_size=int(setting("EXPIRE_BATCH_SIZE")),
                between_batches=between_batches,
            )
            workers = WorkerState.objects.purge_offline(now, days("PURGE_OFFLINE_WORKERS_DAYS"))
            QueueSample.objects.filter(at__lt=now - QUEUE_SAMPLES_KEPT).delete()
            kept = [days(name) for name in EXPIRY_SETTINGS]
            if None not in kept:
                TaskEvent.objects.expire(
                    now - max(kept),
                    batch_size=int(setting("EXPIRE_BATCH_SIZE")),
                    between_batches=between_batches,
                )
            for call in setting("CLEANUP_CALLS"):
                import_string(call)(now)
            # the day's settled hours summed up here, so that no dashboard view waits for it
            day = charts.WINDOWS["day"]
            rollup.ensure_summarised(rollup.settled_hours(day.periods(now), now))
        except DATABASE_FAILURES as exc:
            _forget_connections()
            raise StoreUnavailable(str(exc).strip() or type(exc).__name__) from exc
        return Cleanup(tasks=tasks, workers=workers)
