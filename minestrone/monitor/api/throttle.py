"""Requests per minute, counted per token (or per logged-in user) in Django's cache."""

from __future__ import annotations

import time

from django.core.cache import cache

from minestrone.monitor.api.errors import ApiError
from minestrone.monitor.conf import setting

WINDOW_SECONDS = 60


def check(key: str, now: float | None = None) -> None:
    """Count one request of `key`; ApiError 429 past MONITOR_API_REQUESTS_PER_MINUTE."""
    allowed = int(setting("API_REQUESTS_PER_MINUTE"))
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    counter = f"minestrone.monitor.api.throttle.{key}.{window}"
    cache.add(counter, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    if count > allowed:
        wait = max(1, int((window + 1) * WINDOW_SECONDS - now))
        raise ApiError(
            f"too many requests: at most {allowed} a minute per token; retry in {wait} s",
            429,
            {"Retry-After": str(wait)},
        )
