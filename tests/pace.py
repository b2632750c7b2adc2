"""How much slower this machine runs than the one the tests' time bounds are stated for.

A bound such as "a killed broker serves again within 15 s" is stated for a 2-core machine that
runs the reference workload below in ``REFERENCE_SECONDS``. On a machine measured slower in the
same run (a busy or throttled CI host), ``within`` stretches the bound by that ratio, never by
more than ``LIMIT``: a recovery that never comes still fails, a slow machine alone does not.
"""

from __future__ import annotations

import functools
import time

REFERENCE_SECONDS = 0.16  # sum(range(10_000_000)) on the machine the bounds are stated for
LIMIT = 8.0
TRIES = 3


def _workload_seconds() -> float:
    started = time.perf_counter()
    sum(range(10_000_000))
    return time.perf_counter() - started


@functools.cache
def pace() -> float:
    """This machine's slowness against the reference: 1.0 or more, at most ``LIMIT``."""
    best = min(_workload_seconds() for _ in range(TRIES))
    return min(LIMIT, max(1.0, best / REFERENCE_SECONDS))


def within(seconds: float) -> float:
    """A time bound stated for the reference machine, stretched to this machine's pace."""
    return seconds * pace()
