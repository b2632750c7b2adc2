"""The rate limit on jobs queued anonymously: so many per client network and period.

A client is its address as the trusted proxies report it, an IPv6 client its /64
(``minestrone.security.client_network``). ``SOUP_ANONYMOUS_JOB_RATE`` is the limit, written as
Celery writes rates (``30/m``, ``200/h``); ``0`` lifts it. The jobs are counted by the project's
one throttle (``minestrone.throttle``), in the database.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from minestrone.monitor.rates import rate_window
from minestrone.throttle import limits

SCOPE = "soup.job"


def seconds_to_wait(network: str | None, now: datetime) -> int:
    """0 when ``network`` may queue a job now (the job is then counted), else the whole
    seconds until it may (for ``Retry-After``)."""
    window = rate_window(settings.SOUP_ANONYMOUS_JOB_RATE)
    if window is None or network is None:
        return 0
    count, seconds = window
    return limits.seconds_to_wait(SCOPE, network, count, seconds, now)
