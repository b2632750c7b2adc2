"""So many requests per key over a sliding window, counted in the database.

Every process and instance of the site shares the count (gunicorn's workers, the web and
worker services). A request is inserted first and counted after, each statement committed at
once (Django's autocommit): of two requests at once, the later count sees both, so they cannot
both take the last place. A refused request deletes its row and counts for nothing; while it
is there, another request at the same moment may be refused too (never one too many let in).
Plain inserts, counts and deletes: the same on PostgreSQL, MariaDB and SQLite.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from minestrone.throttle.models import Hit

# The longest window counted (a rate per hour): older rows count for nothing.
LONGEST_PERIOD = timedelta(hours=1)


def seconds_to_wait(scope: str, key: str, count: float, seconds: float, now: datetime) -> int:
    """0 when ``key`` may make one more request now in ``scope`` (at most ``count`` in any
    ``seconds``, at most LONGEST_PERIOD; the request is then counted), else the whole seconds
    until it may."""
    since = now - timedelta(seconds=seconds)
    mine = Hit.objects.record(scope, key, now)
    others = Hit.objects.in_window(scope, key, since).exclude(pk=mine.pk)
    if others.count() < count:
        return 0
    mine.delete()
    if count <= 0:
        return max(1, math.ceil(seconds))
    places = math.ceil(count)
    # the oldest of the last `count` requests leaves the window first
    times = list(others.values_list("at", flat=True)[:places])
    if len(times) < places:
        return 1  # requests refused at the same moment have left meanwhile: try again now
    return max(1, math.ceil((times[-1] - since).total_seconds()))


def forget_before(now: datetime) -> int:
    """Delete the rows no window counts any more; return how many (the camera's cleanup)."""
    return Hit.objects.forget_before(now - LONGEST_PERIOD)
