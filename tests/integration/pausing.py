"""Pausing processes (SIGSTOP) and letting them run again (SIGCONT): a Celery pool paused from a
job's start keeps the job mid-run, however slow the machine is, while a test stops its worker."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from machine.pids import start_time
from platform_sim.hosts.processes import children, descendants


def command_line(pid: int) -> str:
    """The command line of ``pid`` ("" once it has ended)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def celery_pool(root: int) -> list[int]:
    """The Celery pool processes of ``root`` or under it (host pids): the children of a
    ``celeryd`` process (the pool's own processes have none)."""
    celery = [pid for pid in (root, *descendants(root)) if "celeryd" in command_line(pid)]
    pool = sorted(child for pid in celery for child in children(pid))
    assert pool, f"no Celery pool process under {root}"
    return pool


# pid → its start time when paused here: pids are reused within minutes on a busy machine, and a
# late SIGCONT to a reused pid would thaw another test's frozen server
_PAUSED: dict[int, int | None] = {}


def signal_all(pids: list[int], sig: signal.Signals) -> None:
    """Send ``sig`` to each of ``pids``; one that has ended is skipped, and SIGCONT goes only to
    a process paused here, never to a later one that reuses its pid."""
    for pid in pids:
        if sig == signal.SIGSTOP:
            _PAUSED[pid] = start_time(pid)
        elif sig == signal.SIGCONT:
            paused_at = _PAUSED.pop(pid, None)
            if paused_at is None or start_time(pid) != paused_at:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
