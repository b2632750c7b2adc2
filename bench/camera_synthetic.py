"""The synthetic part of bench.camera: the camera versus raw bulk writes of the same rows (the
task upserts and the task events), on PostgreSQL (psycopg2) or MariaDB (mysqlclient)."""

from __future__ import annotations

import statistics
import threading
import time

from celery.events.state import State
from django.db import connections

from bench.camera_stream import by_interval, event_rows, final_rows, stream
from minestrone.monitor.camera import Camera
from minestrone.monitor.models import TaskEvent, TaskState
from minestrone.monitor.store import DatabaseStore


class TimedStore(DatabaseStore):
    """The camera's store, timing its writes."""

    def __init__(self):
        self.seconds = 0.0
        self.rows = 0
        self.event_rows = 0
        self.writes = 0

    def record(self, snapshot) -> None:
        """Write and time one snapshot."""
        events = len(snapshot.events)
        began = time.perf_counter()
        super().record(snapshot)
        self.seconds += time.perf_counter() - began
        self.rows += len(snapshot.tasks)
        self.event_rows += events
        self.writes += 1


class NoTimer:
    """The benchmark takes the snapshots itself, one per simulated interval."""

    def call_repeatedly(self, *args):
        """Never called: the camera is not installed."""
        raise AssertionError("not used")


def through_the_camera(events: list[dict], interval: float) -> tuple[float, TimedStore]:
    """Feed the events to a camera as celerycam runs it: this thread receives (handle()),
    a shutter thread takes a snapshot after each simulated interval and writes it while the
    next events are folded. Return the seconds until the last row was written, and the store."""
    store = TimedStore()
    camera = Camera(State(), freq=interval, store=store, timer=NoTimer())
    chunks = list(by_interval(events, interval))
    intervals = threading.Semaphore(0)
    failures: list[BaseException] = []

    def shutter() -> None:
        try:
            for _ in chunks:
                intervals.acquire()
                camera.capture()
            camera.cancel()  # the last snapshot, as at celerycam's exit
        except BaseException as exc:  # reported by the benchmark's thread
            failures.append(exc)
        finally:
            connections.close_all()  # this thread's connection

    thread = threading.Thread(target=shutter, name="shutter")
    began = time.perf_counter()
    thread.start()
    for chunk in chunks:
        for event in chunk:
            camera.handle(event)  # as celerycam's receiver does
        intervals.release()
    thread.join()
    seconds = time.perf_counter() - began
    if failures:
        raise failures[0]
    return seconds, store


def check(tasks: int) -> None:
    """Every task recorded, SUCCESS, with its routing key and worker; its four events too."""
    done = TaskState.objects.filter(
        state="SUCCESS", routing_key="tasks.bench", worker__isnull=False, name__isnull=False
    ).count()
    if done != tasks:
        raise SystemExit(f"the camera recorded {done} complete tasks out of {tasks}")
    events = TaskEvent.objects.count()
    if events != 4 * tasks:
        raise SystemExit(f"the camera recorded {events} task events out of {4 * tasks}")


def run(tasks: int, rate: float, interval: float, raw, rounds: int = 3) -> dict:
    """Run both writers on the same stream, `rounds` times in turn; return the median figures
    (the ratio: the median of each round's camera / raw, both measured back to back). ``raw``
    writes the rows the practical way on the camera's database (PostgresRaw, MariaDBRaw)."""
    camera_runs, raw_runs, ratios, write_ratios = [], [], [], []
    with raw.connect() as connection:
        for _ in range(rounds):
            events, _ = stream(tasks, rate)  # fresh dicts: Celery's State changes the events
            rows, timeline = final_rows(events), event_rows(events)
            raw.empty(connection)
            camera_seconds, store = through_the_camera(events, interval)
            check(tasks)
            raw.empty(connection)
            raw_seconds = raw.write(connection, rows, timeline)
            check(tasks)
            camera_runs.append((camera_seconds, store))
            raw_runs.append(raw_seconds)
            ratios.append(raw_seconds / camera_seconds)
            write_ratios.append(raw_seconds / store.seconds * store.rows / tasks)
        raw.empty(connection)
    camera_seconds, store = sorted(camera_runs, key=lambda run: run[0])[rounds // 2]
    raw_seconds = sorted(raw_runs)[rounds // 2]
    return {
        "tasks": tasks,
        "rounds": rounds,
        "events": len(events),
        "event_rows": len(timeline),
        "snapshots": store.writes,
        "rows_written_by_camera": store.rows,
        "event_rows_written_by_camera": store.event_rows,
        "camera_rows_per_s": round(tasks / camera_seconds),
        "raw_rows_per_s": round(tasks / raw_seconds),
        "ratio": round(statistics.median(ratios), 3),
        "ratios": [round(ratio, 3) for ratio in ratios],
        "camera_write_rows_per_s": round(store.rows / store.seconds),
        "write_ratio": round(statistics.median(write_ratios), 3),
        "camera_seconds": round(camera_seconds, 3),
        "camera_write_seconds": round(store.seconds, 3),
        "raw_seconds": round(raw_seconds, 3),
    }
