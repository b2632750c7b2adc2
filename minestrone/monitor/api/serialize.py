"""Tasks, workers and queues as the API shows them: Flower's field names, times in seconds
since 1970 (UTC) as Flower gives them."""

from __future__ import annotations

from datetime import datetime

from minestrone.monitor import states
from minestrone.monitor.models import QueueSample, TaskState, WorkerState

# Flower's name for the time a task finished, by the state it finished in.
FINISHED_AS = {states.SUCCESS: "succeeded", states.FAILURE: "failed", states.REVOKED: "revoked"}


def epoch(moment: datetime | None) -> float | None:
    """Seconds since 1970, or None."""
    return None if moment is None else moment.timestamp()


def iso(moment: datetime | None) -> str | None:
    """ISO 8601, or None."""
    return None if moment is None else moment.isoformat()


def task(row: TaskState, link: dict | None = None) -> dict:
    """One task, as Flower's /api/task/info gives it (plus the monitor's own fields: how it was
    revoked, the task it retries and those it was retried as)."""
    link = link or {}
    body = {
        "uuid": row.task_id,
        "name": row.name,
        "state": row.state,
        "args": row.args,
        "kwargs": row.kwargs,
        "result": row.result if row.state != states.FAILURE else None,
        "exception": row.result if row.state == states.FAILURE else None,
        "traceback": row.traceback,
        "timestamp": epoch(row.tstamp),
        "sent": epoch(row.sent),
        "received": epoch(row.received),
        "started": epoch(row.started),
        "finished": epoch(row.finished),
        "succeeded": None,
        "failed": None,
        "revoked": None,
        "runtime": row.runtime,
        "retries": row.retries,
        "worker": row.worker,
        "exchange": row.exchange,
        "routing_key": row.routing_key,
        "queue": row.queue,
        "eta": iso(row.eta),
        "expires": iso(row.expires),
        "revocation": row.revocation,
        "retry_of": link.get("retry_of"),
        "retried_as": link.get("retried_as", []),
    }
    if row.state in FINISHED_AS:
        body[FINISHED_AS[row.state]] = epoch(row.finished or row.tstamp)
    return body


def worker(row: WorkerState) -> dict:
    """One worker, as the camera last recorded it."""
    return {
        "hostname": row.hostname,
        "status": row.is_online(),
        "last_heartbeat": epoch(row.last_heartbeat),
        "heartbeat_expires": epoch(row.heartbeat_expires),
        "pid": row.pid,
        "active": row.active,
        "processed": row.processed,
        "loadavg": row.loadavg,
        "sw_ident": row.sw_ident,
        "sw_ver": row.sw_ver,
        "sw_sys": row.sw_sys,
    }


def queue(sample: QueueSample) -> dict:
    """One queue's latest sampled depth."""
    return {
        "name": sample.queue,
        "messages": sample.ready,
        "consumers": sample.consumers,
        "unacked": sample.unacked,
        "sampled": epoch(sample.at),
    }


def dead_letter(letter) -> dict:
    """One dead-lettered job (minestrone.monitor.dead_letter.DeadLetter)."""
    return {
        "uuid": letter.task_id,
        "name": letter.name,
        "args": letter.args_text,
        "kwargs": letter.kwargs_text,
        "routing_key": letter.routing_key,
        "reason": letter.reason,
        "queue": letter.queue,
        "dead_lettered": epoch(letter.dead_lettered_at),
        "deliveries": letter.deliveries,
        "worker": letter.worker,
        "retryable": letter.can_retry,
    }
