"""What the workers are running now, asked through Celery's remote control."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kombu.exceptions import OperationalError

# How long a worker that answered stays "known": while all known workers have answered, the
# page does not wait for the rest of the timeout.
KNOWN_WORKER_SECONDS = 300.0


@dataclass(frozen=True)
class ActiveTask:
    """One task a worker is executing."""

    worker: str
    task_id: str
    name: str
    args: list
    routing_key: str
    started: datetime | None


@dataclass(frozen=True)
class Activity:
    """The answer to "what runs now?": tasks per worker, or why there is no answer."""

    tasks: list[ActiveTask] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    broker_error: str | None = None

    @property
    def no_worker_answered(self) -> bool:
        """True when the broker answered but no worker did."""
        return self.broker_error is None and not self.workers


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


def _started(info: dict) -> datetime | None:
    time_start = info.get("time_start")
    if not time_start:
        return None
    return datetime.fromtimestamp(float(time_start), tz=UTC)


def _task(worker: str, info: dict) -> ActiveTask:
    delivery = info.get("delivery_info") or {}
    return ActiveTask(
        worker=worker,
        task_id=str(info.get("id", "")),
        name=str(info.get("name") or info.get("type") or ""),
        args=list(info.get("args") or []),
        routing_key=str(delivery.get("routing_key") or ""),
        started=_started(info),
    )


class ActivityInspector:
    """Ask every worker for its active tasks with a bounded wait."""

    def __init__(self, app, timeout: float, known: KnownWorkers | None = None):
        self.app = app
        self.timeout = timeout
        self.known = known if known is not None else KnownWorkers()

    def __call__(self) -> Activity:
        """Return what runs now; never raises for an unreachable broker."""
        known = self.known.names()
        inspector = self.app.control.inspect(timeout=self.timeout, limit=len(known) or None)
        try:
            replies = inspector.active() or {}
        except (OperationalError, OSError) as exc:
            return Activity(broker_error=str(exc) or exc.__class__.__name__)
        self.known.saw(replies)
        tasks = [
            _task(worker, info)
            for worker, infos in sorted(replies.items())
            for info in infos or []
        ]
        tasks.sort(key=lambda task: (task.started is None, task.started or 0, task.worker))
        return Activity(tasks=tasks, workers=sorted(replies))
