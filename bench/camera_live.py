"""The live part of bench.camera: a real worker at full speed, the real camera, how far behind.

The queue is filled first, then `manage.py celeryd -E -c 2` starts and drains it as fast as
it can while `manage.py celerycam -F 1` records it. Every quarter second the benchmark reads
the newest finish time the database holds: lag = now − that time, while the worker runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection
from django.db.models import Count, Max, Min, Q

from minestrone.celery_app import app as celery_app
from minestrone.monitor.models import TaskState

ROOT = Path(__file__).resolve().parents[1]
INTERVAL = 1.0
TASK = "bench.tasks.noop"


def start(args: list[str], env_file: Path, log: Path) -> subprocess.Popen:
    """Start `python minestrone/manage.py ARGS` in its own process group."""
    env = {**os.environ, "MINESTRONE_ENV_FILE": str(env_file), "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with open(log, "wb") as output:
        return subprocess.Popen(
            [sys.executable, "minestrone/manage.py", *args],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop(process: subprocess.Popen, timeout: float = 60.0) -> int:
    """SIGTERM the process group, then SIGKILL what is left."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
    return process.returncode


def wait_for(text: str, log: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until text is in the log; stop the benchmark with the log if it never comes."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{text!r} not in {log}:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def fill_queue(tasks: int) -> float:
    """Queue the tasks as fast as the client can (no publisher confirms); return seconds."""
    celery_app.conf.broker_transport_options = {}
    began = time.perf_counter()
    with celery_app.producer_or_acquire() as producer:
        for n in range(tasks):
            celery_app.send_task(TASK, args=[n], routing_key="tasks.bench", producer=producer)
    return time.perf_counter() - began


def progress_now() -> tuple[int, float | None]:
    """How many tasks the database holds as SUCCESS, and the newest finish time (epoch s)."""
    row = TaskState.objects.aggregate(
        done=Count("pk", filter=Q(state="SUCCESS")), newest=Max("finished")
    )
    newest = row["newest"].timestamp() if row["newest"] else None
    return row["done"], newest


def run(tasks: int, env_file: Path, folder: Path) -> dict:
    """Run the live benchmark; return its figures."""
    TaskState.objects.all().delete()
    camera_log, worker_log = folder / "celerycam.log", folder / "celeryd.log"
    camera = start(["celerycam", "-F", str(INTERVAL), "-l", "info"], env_file, camera_log)
    worker = None
    try:
        wait_for("Connected to amqp://", camera_log, camera)
        fill_seconds = fill_queue(tasks)
        worker = start(
            ["celeryd", "-E", "-l", "warning", "-c", "2", "-n", "bench@%h", "-I", "bench.tasks",
             "--prefetch-multiplier", "50", "--without-mingle", "--without-gossip"],
            env_file, worker_log,
        )  # fmt: skip
        lags, done = [], 0
        deadline = time.monotonic() + 120 + tasks / 200
        while done < tasks and time.monotonic() < deadline:
            time.sleep(0.25)
            connection.close()  # a fresh snapshot of the table
            done, newest = progress_now()
            if newest is not None and done < tasks:
                lags.append(time.time() - newest)
        recorded_at = time.time()
    finally:
        worker_status = stop(worker) if worker else None
        camera_status = stop(camera)
    stats = TaskState.objects.filter(state="SUCCESS").aggregate(
        first=Min("started"), last=Max("finished"), count=Count("pk")
    )
    run_seconds = (stats["last"] - stats["first"]).total_seconds() if stats["count"] else 0
    return {
        "tasks": tasks,
        "recorded": stats["count"],
        "every_task_recorded": stats["count"] == tasks,
        "queue_fill_seconds": round(fill_seconds, 1),
        "worker_tasks_per_s": round(stats["count"] / run_seconds) if run_seconds else None,
        "snapshot_interval_s": INTERVAL,
        "lag_max_s": round(max(lags), 2) if lags else None,
        "lag_median_s": round(statistics.median(lags), 2) if lags else None,
        "last_task_recorded_after_s": round(recorded_at - stats["last"].timestamp(), 2)
        if stats["last"]
        else None,
        "lag_under_two_intervals": bool(lags) and max(lags) < 2 * INTERVAL,
        "worker_exit_status": worker_status,
        "camera_exit_status": camera_status,
    }
