"""Requests per minute, counted per token (or per logged-in user) by the project's one throttle
(``minestrone.throttle``): in the database, shared by every process."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from minestrone.monitor.api.errors import ApiError
from minestrone.monitor.conf import setting
from minestrone.throttle import limits

SCOPE = "monitor.api"
WINDOW_SECONDS = 60


def check(key: str, now: datetime | None = None) -> None:
    """Count one request of `key`; ApiError 429 past MONITOR_API_REQUESTS_PER_MINUTE."""
    allowed = int(setting("API_REQUESTS_PER_MINUTE"))
    now = timezone.now() if now is None else now
    wait = limits.seconds_to_wait(SCOPE, key, allowed, WINDOW_SECONDS, now)
    if wait:
        raise ApiError(
            f"too many requests: at most {allowed} a minute per token; retry in {wait} s",
            429,
            {"Retry-After": str(wait)},
        )
