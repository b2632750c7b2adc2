"""Fabricated Celery events, shaped like the ones workers and clients send."""

from __future__ import annotations

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def task(kind: str, uuid: str = "t1", at: float = 0.0, hostname: str = "w1@host", **fields):
    """A task-<kind> event `at` seconds after T0."""
    event = {
        "type": f"task-{kind}",
        "uuid": uuid,
        "hostname": hostname,
        "timestamp": T0 + at,
        "local_received": T0 + at + 0.01,
        "clock": int(at * 10) + 1,
        "utcoffset": 0,
        "pid": 4242,
    }
    event.update(fields)
    return event


def sent(uuid: str = "t1", at: float = 0.0, **fields):
    """A task-sent event from a client, with what apply_async puts in it."""
    defaults = {
        "name": "minestrone.soup.tasks.lazy_job",
        "args": "('soup',)",
        "kwargs": "{}",
        "retries": 0,
        "eta": None,
        "expires": None,
        "exchange": "default",
        "routing_key": "tasks.kitchen",
        "queue": "default",
        "root_id": uuid,
        "parent_id": None,
    }
    return task("sent", uuid, at, hostname="gen1@web", **{**defaults, **fields})


def received(uuid: str = "t1", at: float = 1.0, hostname: str = "w1@host", **fields):
    """A task-received event, with what a worker puts in it."""
    defaults = {
        "name": "minestrone.soup.tasks.lazy_job",
        "args": "('soup',)",
        "kwargs": "{}",
        "retries": 0,
        "eta": None,
        "expires": None,
        "root_id": uuid,
        "parent_id": None,
    }
    return task("received", uuid, at, hostname=hostname, **{**defaults, **fields})


def worker(kind: str, hostname: str = "w1@host", at: float = 0.0, received_at=None, **fields):
    """A worker-<kind> event; local_received defaults to the event's time."""
    event = {
        "type": f"worker-{kind}",
        "hostname": hostname,
        "timestamp": T0 + at,
        "local_received": T0 + (at if received_at is None else received_at),
        "utcoffset": 0,
        "pid": 4242,
        "clock": 1,
        "freq": 2.0,
        "sw_ident": "py-celery",
        "sw_ver": "5.7.0",
        "sw_sys": "Linux",
        "active": 1,
        "processed": 10,
        "loadavg": [0.5, 0.25, 0.125],
    }
    event.update(fields)
    return event
