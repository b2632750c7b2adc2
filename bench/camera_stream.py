"""A synthetic event stream, the rows it must leave (tasks and their events), and the raw
psycopg2 writer to compare with."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime

import psycopg2
from psycopg2.extras import execute_values

from minestrone.monitor.events import observe_event
from minestrone.monitor.merge import TASK_RULES
from minestrone.monitor.states import progress

TASK_NAME = "bench.tasks.noop"
WORKERS = ("w1@bench", "w2@bench")
# seconds after task-sent: received, started, succeeded (a fast task on a busy worker)
RECEIVED, STARTED, SUCCEEDED = 0.002, 0.004, 0.006
HEARTBEAT_EVERY = 2.0


def _base(task_id: str, kind: str, hostname: str, at: float, clock: int) -> dict:
    return {
        "type": kind,
        "uuid": task_id,
        "hostname": hostname,
        "timestamp": at,
        "local_received": at,
        "utcoffset": 0,
        "pid": 4242,
        "clock": clock,
    }


def task_events(n: int, task_id: str, at: float) -> list[dict]:
    """The four events of one task sent at `at`, as a client and a worker send them."""
    worker = WORKERS[n % len(WORKERS)]
    call = {"name": TASK_NAME, "args": f"({n},)", "kwargs": "{}", "retries": 0, "eta": None,
            "expires": None, "root_id": task_id, "parent_id": None}  # fmt: skip
    return [
        {**_base(task_id, "task-sent", "client@bench", at, 4 * n), **call,
         "exchange": "default", "routing_key": "tasks.bench", "queue": "default"},
        {**_base(task_id, "task-received", worker, at + RECEIVED, 4 * n + 1), **call},
        _base(task_id, "task-started", worker, at + STARTED, 4 * n + 2),
        {**_base(task_id, "task-succeeded", worker, at + SUCCEEDED, 4 * n + 3),
         "result": str(n), "runtime": 0.001},
    ]  # fmt: skip


def heartbeat(hostname: str, at: float) -> dict:
    """A worker-heartbeat event."""
    return {**_base("", "worker-heartbeat", hostname, at, 0), "freq": 2.0, "active": 1,
            "processed": 0, "loadavg": [0.5, 0.5, 0.5], "sw_ident": "py-celery",
            "sw_ver": "5.7.0", "sw_sys": "Linux"}  # fmt: skip


def stream(tasks: int, rate: float) -> tuple[list[dict], dict[str, int]]:
    """Events of `tasks` tasks sent at `rate` per second (ending now), in time order.

    Returns the events and, for each task id, its number.
    """
    start = time.time() - tasks / rate - 1.0
    events: list[dict] = []
    numbers: dict[str, int] = {}
    for n in range(tasks):
        task_id = str(uuid.UUID(int=n + 1))
        numbers[task_id] = n
        events.extend(task_events(n, task_id, start + n / rate))
    beat = start
    while beat < start + tasks / rate + SUCCEEDED:
        events.extend(heartbeat(hostname, beat) for hostname in WORKERS)
        beat += HEARTBEAT_EVERY
    events.sort(key=lambda event: event["timestamp"])
    return events, numbers


def by_interval(events: list[dict], seconds: float) -> Iterator[list[dict]]:
    """The events cut into the slices one snapshot interval receives."""
    if not events:
        return
    chunk: list[dict] = []
    end = events[0]["timestamp"] + seconds
    for event in events:
        if event["timestamp"] >= end:
            yield chunk
            chunk = []
            while event["timestamp"] >= end:
                end += seconds
        chunk.append(event)
    yield chunk


def final_rows(events: list[dict]) -> list[tuple]:
    """The rows the tasks must end as (built here, outside any timing), in column order."""
    rows = []
    for event in events:
        if event["type"] != "task-succeeded":
            continue
        n = int(event["result"])
        sent = event["timestamp"] - SUCCEEDED
        rows.append(_row(event["uuid"], n, sent))
    return rows


COLUMNS = ("task_id", *TASK_RULES.columns)


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _row(task_id: str, n: int, sent: float) -> tuple:
    finished = sent + SUCCEEDED
    values = {
        "task_id": task_id, "state": "SUCCESS", "progress": progress("SUCCESS", finished),
        "tstamp": _dt(finished), "name": TASK_NAME, "args": f"({n},)", "kwargs": "{}",
        "eta": None, "expires": None, "exchange": "default", "routing_key": "tasks.bench",
        "queue": "default", "result": str(n), "traceback": None, "runtime": 0.001,
        "worker": WORKERS[n % len(WORKERS)], "retries": 0, "sent": _dt(sent),
        "received": _dt(sent + RECEIVED), "started": _dt(sent + STARTED), "finished": _dt(finished),
    }  # fmt: skip
    return tuple(values.get(column) for column in COLUMNS)


EVENT_COLUMNS = ("task_id", "kind", "timestamp", "hostname", "detail")


def event_rows(events: list[dict]) -> list[tuple]:
    """The timeline rows the task events must leave (built outside any timing), in column order."""
    rows = []
    for event in events:
        if event["type"].startswith("task-"):
            row = observe_event(event)
            rows.append(tuple(row[column] for column in EVENT_COLUMNS))
    return rows


def raw_write(connection, rows: list[tuple], events: list[tuple], page_size: int = 1000) -> float:
    """Write the task rows with execute_values INSERT … ON CONFLICT DO UPDATE and the event rows
    with execute_values INSERT (COPY is not available: the project's deadline on every
    PostgreSQL wait puts psycopg2 in green mode); return the seconds taken."""
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
    tasks_sql = (
        f"INSERT INTO monitor_taskstate ({', '.join(COLUMNS)}) VALUES %s "  # noqa: S608
        f"ON CONFLICT (task_id) DO UPDATE SET {assignments}"
    )
    events_sql = f"INSERT INTO monitor_taskevent ({', '.join(EVENT_COLUMNS)}) VALUES %s"  # noqa: S608
    connection.autocommit = True
    with connection.cursor() as cursor:
        began = time.perf_counter()
        execute_values(cursor, tasks_sql, rows, page_size=page_size)
        execute_values(cursor, events_sql, events, page_size=page_size)
        return time.perf_counter() - began


class PostgresRaw:
    """Raw bulk writes into one PostgreSQL database with psycopg2."""

    def __init__(self, server, database: str):
        self.server = server
        self.database = database

    def connect(self):
        """An autocommit connection to the benchmark's database, closed by ``with``."""
        connection = psycopg2.connect(self.server.database_url(self.database))
        connection.autocommit = True
        return closing(connection)

    @staticmethod
    def empty(connection) -> None:
        """Start from empty, vacuumed tables."""
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE monitor_taskstate, monitor_taskevent")
            cursor.execute("VACUUM ANALYZE monitor_taskstate")
            cursor.execute("VACUUM ANALYZE monitor_taskevent")

    write = staticmethod(raw_write)
