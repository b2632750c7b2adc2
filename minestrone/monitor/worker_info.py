"""What one worker says about itself when asked: its pool, processes, consumed queues and
registered tasks with their rate and time limits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from minestrone.errors import BROKER_FAILURES

# What `inspect registered` adds to each task name.
TASK_INFO = ("rate_limit", "time_limit", "soft_time_limit")


@dataclass(frozen=True)
class RegisteredTask:
    """A task the worker knows, with the limits it applies now."""

    name: str
    limits: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkerInfo:
    """The worker's own answers, or why there are none."""

    hostname: str
    answered: bool = False
    error: str | None = None
    pool: str = ""
    concurrency: int | None = None
    processes: list[int] = field(default_factory=list)
    prefetch_count: int | None = None
    queues: list[dict] = field(default_factory=list)
    registered: list[RegisteredTask] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


def parse_registered(line: str) -> RegisteredTask:
    """ "app.add [rate_limit=10/m time_limit=30]" → RegisteredTask("app.add", {...})."""
    name, _, rest = line.partition(" [")
    limits = {}
    for item in rest.rstrip("]").split():
        key, sep, value = item.partition("=")
        if sep and value not in ("None", ""):
            limits[key] = value
    return RegisteredTask(name.strip(), limits)


def ask(app, hostname: str, timeout: float) -> WorkerInfo:
    """Ask the worker for its stats, queues and registered tasks, all at once; never raises for
    an unreachable broker."""
    inspector = app.control.inspect(destination=[hostname], timeout=timeout, limit=1)
    calls = {
        "stats": inspector.stats,
        "queues": inspector.active_queues,
        "registered": lambda: inspector.registered(*TASK_INFO),
    }
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {name: pool.submit(call) for name, call in calls.items()}
        try:
            replies = {
                name: (future.result() or {}).get(hostname) for name, future in futures.items()
            }
        except BROKER_FAILURES as exc:
            return WorkerInfo(hostname, error=str(exc) or type(exc).__name__)
    if not any(reply is not None for reply in replies.values()):
        return WorkerInfo(hostname)
    stats = replies["stats"] or {}
    pool_stats = stats.get("pool") or {}
    return WorkerInfo(
        hostname,
        answered=True,
        pool=str(pool_stats.get("implementation", "")).rsplit(":", 1)[-1],
        concurrency=pool_stats.get("max-concurrency"),
        processes=list(pool_stats.get("processes") or []),
        prefetch_count=stats.get("prefetch_count"),
        queues=[queue for queue in replies["queues"] or [] if isinstance(queue, dict)],
        registered=sorted(
            (parse_registered(str(line)) for line in replies["registered"] or []),
            key=lambda task: task.name,
        ),
        totals={str(k): v for k, v in (stats.get("total") or {}).items()},
    )
