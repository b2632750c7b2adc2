"""The rate limit on jobs queued anonymously: so many per client network and period.

The count is kept in the database, so that every process and instance of the site shares it.
A client is its address as the trusted proxies report it, an IPv6 client its /64
(``minestrone.security.client_network``). ``SOUP_ANONYMOUS_JOB_RATE`` is the limit, written as
Celery writes rates (``30/m``, ``200/h``); ``0`` lifts it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings

from minestrone.monitor.rates import rate_window
from minestrone.soup.models import JobSubmission

# The longest period a rate can be counted over (``/h``): older rows count for nothing.
LONGEST_PERIOD = timedelta(hours=1)


def seconds_to_wait(network: str | None, now: datetime) -> int:
    """0 when ``network`` may queue a job now (the job is then counted), else the whole
    seconds until it may (for ``Retry-After``)."""
    window = rate_window(settings.SOUP_ANONYMOUS_JOB_RATE)
    if window is None or network is None:
        return 0
    count, seconds = window
    since = now - timedelta(seconds=seconds)
    recent = JobSubmission.objects.filter(network=network, at__gt=since).order_by("-at")
    times = list(recent.values_list("at", flat=True)[: math.ceil(count)])
    if len(times) >= count:
        # the oldest of the last `count` jobs leaves the window first
        return max(1, math.ceil((times[-1] - since).total_seconds()))
    JobSubmission.objects.create(network=network, at=now)
    return 0


def forget_before(now: datetime) -> int:
    """Delete the rows no rate counts any more; return how many."""
    deleted, _ = JobSubmission.objects.filter(at__lt=now - LONGEST_PERIOD).delete()
    return deleted
