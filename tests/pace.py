"""How much slower this machine runs than the one the tests' time bounds are stated for.

A bound such as "a killed broker serves again within 15 s" is stated for a 2-core machine that
runs the reference workload below in ``REFERENCE_SECONDS``, one test at a time. On a machine
measured slower in the same run (a busy or throttled CI host), ``within`` stretches the bound by
that ratio, never by more than ``LIMIT``: a recovery that never comes still fails, a slow machine
alone does not. When test processes run side by side (pytest-xdist workers, and the tox
environments ``bin/test`` runs at once), more of them than cores share the CPU: ``within``
stretches by that share too (``contention``), since the pace is measured at one moment only.
"""

from __future__ import annotations

import functools
import os
import time

REFERENCE_SECONDS = 0.16  # sum(range(10_000_000)) on the machine the bounds are stated for
LIMIT = 8.0
TRIES = 3
# how many test processes the run keeps busy side by side (bin/test sets it for a full run)
PROCESSES_VARIABLE = "MINESTRONE_TEST_PROCESSES"
WORKERS_VARIABLE = "PYTEST_XDIST_WORKER_COUNT"  # set by pytest-xdist in each of its workers
PACE_VARIABLE = "MINESTRONE_PACE"  # the pace measured by the run's first process


def _workload_seconds() -> float:
    started = time.perf_counter()
    sum(range(10_000_000))
    return time.perf_counter() - started


def _measured(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if 1.0 <= number <= LIMIT else None


@functools.cache
def pace() -> float:
    """This machine's slowness against the reference: 1.0 or more, at most ``LIMIT``.

    Measured once per run: the pytest-xdist workers take the controller's measurement
    (``PACE_VARIABLE``, set by ``share_pace`` before they start) rather than each their own.
    """
    given = _measured(os.environ.get(PACE_VARIABLE))
    if given is not None:
        return given
    best = min(_workload_seconds() for _ in range(TRIES))
    return min(LIMIT, max(1.0, best / REFERENCE_SECONDS))


def share_pace() -> float:
    """Measure the pace now and hand it to the processes started from here on; the pace."""
    measured = pace()
    os.environ[PACE_VARIABLE] = f"{measured:.3f}"
    return measured


def _count(value: str | None) -> int:
    return int(value) if value and value.strip().isdigit() else 0


def contention(environ: dict[str, str] | None = None, cpus: int | None = None) -> float:
    """How many test processes share each core (1.0 or more): what ``pace`` cannot see."""
    environ = os.environ if environ is None else environ
    processes = max(
        _count(environ.get(PROCESSES_VARIABLE)), _count(environ.get(WORKERS_VARIABLE)), 1
    )
    return max(1.0, processes / (cpus or os.cpu_count() or 1))


def within(seconds: float) -> float:
    """A time bound stated for the reference machine, stretched to this machine's pace and to
    the test processes sharing its cores."""
    return seconds * pace() * contention()


def quick(seconds: float, timeout: float) -> float:
    """A bound for what must end long before ``timeout`` (a failure seen at once, not when the
    wait runs out): ``within(seconds)``, yet never more than half of ``timeout``."""
    return min(within(seconds), timeout / 2)
