"""What the workers hold now (running, reserved, scheduled), asked through Celery's remote
control, and how deep the queues are, asked of the broker."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from minestrone.errors import BROKER_FAILURES, BrokerUnreachable
from minestrone.monitor.queue_depth import QueueDepth

# How long a worker that answered stays "known": while all known workers have answered, the
# page does not wait for the rest of the timeout.
KNOWN_WORKER_SECONDS = 300.0
ACTIVE, RESERVED, SCHEDULED = "active", "reserved", "scheduled"
# The inspect commands asked, all at once: what runs, what is prefetched, what waits for its ETA.
COMMANDS = (ACTIVE, RESERVED, SCHEDULED)


@dataclass(frozen=True)
class ActiveTask:
    """One task a worker holds: running (active), prefetched (reserved) or waiting for its ETA."""

    worker: str
    task_id: str
    name: str
    args: list | None  # None: not the visitor's to read (``visibility``)
    routing_key: str
    started: datetime | None
    status: str = ACTIVE
    eta: datetime | None = None


@dataclass(frozen=True)
class Activity:
    """The answer to "what do the workers hold?", and the queues' depths, or why not."""

    tasks: list[ActiveTask] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    broker_error: str | None = None
    reserved: list[ActiveTask] = field(default_factory=list)
    scheduled: list[ActiveTask] = field(default_factory=list)
    queues: list[QueueDepth] = field(default_factory=list)

    @property
    def no_worker_answered(self) -> bool:
        """True when the broker answered but no worker did."""
        return self.broker_error is None and not self.workers

    @property
    def held(self) -> int:
        """Messages the workers hold unacknowledged: running, reserved and scheduled tasks."""
        return len(self.tasks) + len(self.reserved) + len(self.scheduled)

    def status_of(self, task_id: str) -> str | None:
        """active, reserved or scheduled when a worker holds the task, else None."""
        for task in (*self.tasks, *self.reserved, *self.scheduled):
            if task.task_id == task_id:
                return task.status
        return None


class KnownWorkers:
    """Remember which workers answered lately, so a query can stop once they all have."""

    def __init__(self, clock=time.monotonic, ttl: float = KNOWN_WORKER_SECONDS):
        self._clock = clock
        self._ttl = ttl
        self._seen: dict[str, float] = {}

    def names(self) -> set[str]:
        """Hostnames seen within the last ttl seconds."""
        horizon = self._clock() - self._ttl
        self._seen = {name: when for name, when in self._seen.items() if when >= horizon}
        return set(self._seen)

    def saw(self, names) -> None:
        """Record that these workers answered just now."""
        now = self._clock()
        self._seen.update(dict.fromkeys(names, now))


def _epoch(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _iso(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _task(worker: str, info: dict, status: str = ACTIVE) -> ActiveTask:
    eta = None
    if status == SCHEDULED:
        eta = _iso(info.get("eta"))
        info = info.get("request") or {}
    delivery = info.get("delivery_info") or {}
    return ActiveTask(
        worker=worker,
        task_id=str(info.get("id", "")),
        name=str(info.get("name") or info.get("type") or ""),
        args=list(info.get("args") or []),
        routing_key=str(delivery.get("routing_key") or ""),
        started=_epoch(info.get("time_start")),
        status=status,
        eta=eta,
    )


def _flatten(replies: dict, status: str) -> list[ActiveTask]:
    return [
        _task(worker, info, status)
        for worker, infos in sorted(replies.items())
        for info in infos or []
        if isinstance(info, dict)
    ]


class ActivityInspector:
    """Ask every worker what it holds, and the broker how deep the queues are, with bounded
    waits: the three inspect commands and the queue read run at the same time."""

    def __init__(self, app, timeout: float, known: KnownWorkers | None = None, depths=None):
        self.app = app
        self.timeout = timeout
        self.known = known if known is not None else KnownWorkers()
        self.depths = depths  # callable returning [QueueDepth], or None: not asked

    def __call__(self) -> Activity:
        """Return what the workers hold; never raises for an unreachable broker."""
        known = self.known.names()
        inspector = self.app.control.inspect(timeout=self.timeout, limit=len(known) or None)
        with ThreadPoolExecutor(max_workers=len(COMMANDS) + 1) as pool:
            asked = {name: pool.submit(getattr(inspector, name)) for name in COMMANDS}
            depths = pool.submit(self.depths) if self.depths is not None else None
            try:
                replies = {name: future.result() or {} for name, future in asked.items()}
                queues = depths.result() if depths is not None else []
            except (*BROKER_FAILURES, BrokerUnreachable) as exc:
                return Activity(broker_error=str(exc) or exc.__class__.__name__)
        workers = sorted(set().union(*replies.values()))
        self.known.saw(workers)
        tasks = _flatten(replies[ACTIVE], ACTIVE)
        tasks.sort(key=lambda task: (task.started is None, task.started or 0, task.worker))
        scheduled = _flatten(replies[SCHEDULED], SCHEDULED)
        scheduled.sort(key=lambda task: (task.eta is None, task.eta or 0, task.worker))
        return Activity(
            tasks=tasks,
            workers=workers,
            reserved=_flatten(replies[RESERVED], RESERVED),
            scheduled=scheduled,
            queues=queues,
        )
