"""Snapshots: the task observations and worker rows gathered between two shutters."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from celery.events.state import HEARTBEAT_EXPIRE_WINDOW, heartbeat_expires

from minestrone.monitor import events, states
from minestrone.monitor.merge import TASK_RULES, WORKER_RULES

logger = logging.getLogger(__name__)

_DEFAULT_HEARTBEAT_INTERVAL = 2.0
_MAX_HEARTBEAT_INTERVAL = 3600.0
# Events kept per task when unwritten snapshots are trimmed during a database outage.
EVENTS_PER_TASK = 8


@dataclass
class Snapshot:
    """Rows ready to write: task observations by task id, worker rows by hostname."""

    tasks: dict[str, dict] = field(default_factory=dict)
    workers: dict[str, dict] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)  # the tasks' timelines, in arrival order

    def __bool__(self) -> bool:
        return bool(self.tasks or self.workers or self.events)

    def trim(self, max_tasks: int) -> int:
        """Keep at most `max_tasks` tasks, dropping the oldest finished ones first, then the
        oldest others (by the time of their latest state); return how many were dropped."""
        excess = len(self.tasks) - max(max_tasks, 0)
        if excess <= 0:
            return 0
        doomed = heapq.nsmallest(excess, self.tasks.items(), key=_drop_order)
        for key, _row in doomed:
            del self.tasks[key]
        # a task has a handful of events: keep the newest, as many as EVENTS_PER_TASK each
        limit = max(max_tasks, 0) * EVENTS_PER_TASK
        if len(self.events) > limit:
            del self.events[: len(self.events) - limit]
        return excess

    def absorb(self, later: Snapshot) -> None:
        """Merge a later snapshot into this one (both unwritten), by the merge rules."""
        _merge_into(self.tasks, later.tasks, TASK_RULES.merge)
        _merge_into(self.workers, later.workers, WORKER_RULES.merge)
        self.events.extend(later.events)


def _drop_order(item: tuple[str, dict]) -> tuple[bool, datetime, str]:
    """Finished tasks before the others, then the oldest state first."""
    key, row = item
    finished = row["progress"] >= states.FINISHED_PROGRESS
    return (not finished, row["tstamp"], key)


def _merge_into(rows: dict[str, dict], later: Mapping[str, dict], merge) -> None:
    for key, row in later.items():
        rows[key] = merge(rows[key], row) if key in rows else row


@dataclass
class Changes:
    """Events folded since the last shutter: task observations, the workers heard from."""

    tasks: dict[str, dict] = field(default_factory=dict)
    workers: set[str] = field(default_factory=set)
    events: list[dict] = field(default_factory=list)
    online: set[str] = field(default_factory=set)  # workers that just started
    offline: dict[str, float] = field(default_factory=dict)
    # When each worker last sent a task event: a sign of life, as Celery's State counts it.
    seen: dict[str, float] = field(default_factory=dict)
    # The Celery app's time zone, in which naive ETA and expiry times are read.
    zone: tzinfo = UTC

    def __bool__(self) -> bool:
        return bool(self.tasks or self.workers)

    def fresh(self) -> Changes:
        """Empty changes in the same time zone."""
        return Changes(zone=self.zone)

    def add(self, event: Mapping) -> None:
        """Fold one event in; raise MalformedEvent when it cannot be recorded."""
        kind = events.check(event)
        if kind in events.TASK_EVENTS:
            observation, timeline_row = events.observe(event, self.zone)
            key = observation["task_id"]
            known = self.tasks.get(key)
            self.tasks[key] = observation if known is None else TASK_RULES.merge(known, observation)
            self.events.append(timeline_row)
            if kind != "task-sent":
                hostname = event["hostname"]
                self.workers.add(hostname)
                received = events.as_float(event.get("local_received"))
                if received is not None and received > self.seen.get(hostname, 0.0):
                    self.seen[hostname] = received
            return
        hostname = event["hostname"]
        self.workers.add(hostname)
        if kind == "worker-online":
            self.online.add(hostname)
        if kind == "worker-offline":
            received = events.as_float(event.get("local_received"))
            self.offline[hostname] = received or events.timestamp(event)
        else:
            self.offline.pop(hostname, None)

    def snapshot(self, workers: Mapping, slack: float) -> Snapshot:
        """The rows these changes make, reading the workers' state from Celery's `workers`;
        a worker whose row cannot be made is logged and left out."""
        rows = {}
        for hostname in self.workers:
            row = self._worker_row(hostname, workers.get(hostname), slack)
            if row is not None:
                rows[hostname] = row
        return Snapshot(tasks=self.tasks, workers=rows, events=self.events)

    def _worker_row(self, hostname: str, worker, slack: float) -> dict | None:
        """The worker's row, or None (logged) if its state cannot make one."""
        try:
            return worker_row(
                hostname,
                worker,
                offline_at=self.offline.get(hostname),
                seen_at=self.seen.get(hostname),
                slack=slack,
            )
        except Exception:
            logger.exception("worker row of %r not made", hostname)
            return None


def _loadavg(value: object) -> str | None:
    if isinstance(value, list | tuple) and value:
        numbers = [events.as_float(item) for item in value]
        if all(number is not None for number in numbers):
            return " ".join(f"{number:.2f}" for number in numbers)
    return None


def _interval(worker) -> float:
    """The worker's heartbeat interval, or Celery's default if it sent none that makes sense."""
    interval = events.as_float(getattr(worker, "freq", None))
    if interval is None or not 0 < interval <= _MAX_HEARTBEAT_INTERVAL:
        return _DEFAULT_HEARTBEAT_INTERVAL
    return interval


def worker_row(
    hostname: str,
    worker,
    offline_at: float | None = None,
    seen_at: float | None = None,
    slack: float = 0.0,
) -> dict:
    """A worker's row from Celery's Worker state (None if unknown), its offline time and the
    time it last sent a task event.

    ONLINE lasts until Celery's heartbeat expiry of the last sign of life plus `slack`: the
    camera rewrites the row at most once per interval, so the stored expiry must outlast one.
    """
    row: dict = {"hostname": events.as_text(hostname)}
    heard = [seen_at] if seen_at is not None else []
    if worker is not None:
        row.update(
            pid=events.as_int(worker.pid),
            sw_ident=events.as_text(worker.sw_ident),
            sw_ver=events.as_text(worker.sw_ver),
            sw_sys=events.as_text(worker.sw_sys),
            active=events.as_int(worker.active),
            processed=events.as_int(worker.processed, bits=64),
            loadavg=_loadavg(worker.loadavg),
        )
        if worker.heartbeats:
            heard.append(worker.heartbeats[-1])
    last = max(heard) if heard else None
    if offline_at is not None and (last is None or offline_at >= last):
        row["heartbeat_expires"] = events.epoch_datetime(offline_at)
        return row
    if last is not None:
        window = getattr(worker, "expire_window", HEARTBEAT_EXPIRE_WINDOW)
        expires = heartbeat_expires(last, _interval(worker), window)
        row["last_heartbeat"] = events.epoch_datetime(last)
        row["heartbeat_expires"] = events.epoch_datetime(expires + slack)
    return row
