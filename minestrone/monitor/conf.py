"""The monitor's settings (MONITOR_* in Django's settings) with their defaults, read when used."""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings

DEFAULTS = {
    # Days a task is kept after its last event, by state; None keeps it forever.
    "EXPIRE_SUCCESS_DAYS": 1,
    "EXPIRE_ERROR_DAYS": 3,  # FAILURE, RETRY, REVOKED
    "EXPIRE_UNFINISHED_DAYS": 5,  # every other state
    # Days a worker row is kept once the worker is offline; None keeps it.
    "PURGE_OFFLINE_WORKERS_DAYS": 7,
    # Rows deleted per statement by the cleanup.
    "EXPIRE_BATCH_SIZE": 5000,
    # Seconds between two cleanups of the camera.
    "CLEANUP_INTERVAL": 3600.0,
    # Dotted paths of callables(now) the cleanup also calls, for the project's other old rows
    # (expired sessions, spent rate-limit counts); each returns how many rows it deleted.
    "CLEANUP_CALLS": (),
    # Seconds between two snapshots of the camera (celerycam --frequency).
    "CAMERA_FREQUENCY": 1.0,
    # Tasks the camera keeps in memory while the database is unavailable (as many as Celery's
    # State keeps by default); beyond, the oldest finished ones are dropped first. None: no cap.
    "MAX_UNWRITTEN_TASKS": 10_000,
    # Seconds the admin's actions wait for the workers' replies.
    "CONTROL_TIMEOUT": 1.0,
    # Minutes without any task event after which the Tasks page explains why.
    "IDLE_NOTICE_MINUTES": 10,
    # A bearer token that lets a scraper read /monitor/metrics without a staff login; None:
    # staff only. Read from the process environment when the settings do not set it.
    "METRICS_TOKEN": os.environ.get("MONITOR_METRICS_TOKEN") or None,
    # The base URL of RabbitMQ's management API (e.g. http://127.0.0.1:15672), asked for the
    # queues' ready, unacknowledged and consumer counts with the broker's own login; None: the
    # queues are read by AMQP passive declares, which cannot count unacknowledged messages.
    "BROKER_API_URL": None,
    # Seconds the management API is given before the passive declares are used instead.
    "BROKER_API_TIMEOUT": 2.0,
    # Requests a minute one API token (or one logged-in user) may make to /api/ (counted in the
    # database by minestrone.throttle, across every process; 0 refuses every request).
    "API_REQUESTS_PER_MINUTE": 600,
}


def setting(name: str) -> object:
    """Return MONITOR_<name> from Django's settings, or its default."""
    return getattr(settings, f"MONITOR_{name}", DEFAULTS[name])


def days(name: str) -> timedelta | None:
    """Return a MONITOR_*_DAYS setting as a timedelta, None meaning "keep"."""
    value = setting(name)
    return None if value is None else timedelta(days=float(value))
