"""Processes we start, on the shared executor: each in its own session, found again later (by
another invocation of the command line) by pid and start time."""

from __future__ import annotations

import functools
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from machine import executor
from machine.executor import children, command_name, descendants, reap_orphans, start_time
from platform_sim.errors import HostError

__all__ = [
    "Handle",
    "ProcessTable",
    "children",
    "command_name",
    "descendants",
    "reap_orphans",
    "start_time",
]


@dataclass(frozen=True)
class Handle:
    """A process we started, recognisable later by its pid and start time (pid reuse-proof)."""

    pid: int
    started: int

    def alive(self) -> bool:
        """Whether this very process still runs."""
        return start_time(self.pid) == self.started

    def to_json(self) -> dict:
        """What the pid file stores."""
        return {"pid": self.pid, "started": self.started}

    @classmethod
    def from_json(cls, data: Mapping | None) -> Handle | None:
        """The handle a pid file describes (None for no file)."""
        if not data:
            return None
        return cls(int(data["pid"]), int(data["started"]))


class ProcessTable:
    """Spawns processes and keeps their Popen objects, so that our own children get reaped."""

    def __init__(self) -> None:
        self._popen: dict[int, subprocess.Popen] = {}

    def spawn(
        self,
        argv: Sequence[str],
        *,
        log: Path,
        env: Mapping[str, str],
        cwd: Path | str | None = None,
    ) -> Handle:
        """Start ``argv`` in a new session, its output appended to ``log``."""
        try:
            child = executor.start(argv, log=log, env=env, cwd=cwd)
        except executor.CannotRun as exc:
            raise HostError(str(exc)) from exc
        self._popen[child.pid] = child
        started = start_time(child.pid)
        return Handle(child.pid, started if started is not None else -1)

    def reap(self) -> None:
        """Collect the exit status of our children that have finished."""
        for pid, child in list(self._popen.items()):
            if child.poll() is not None:
                self._popen.pop(pid, None)  # another thread (a parallel stop) may reap it too

    def alive(self, handle: Handle) -> bool:
        """Whether ``handle``'s process still runs (reaping it if it is our finished child)."""
        self.reap()
        return handle.alive()

    def wait_gone(
        self,
        handle: Handle,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bool:
        """Wait until ``handle``'s process has exited; False if it still runs after ``timeout``."""
        return executor.wait_for(lambda: not self.alive(handle), timeout, clock=clock, sleep=sleep)

    def stop_namespace(self, handle: Handle, grace: float, sig: int = signal.SIGTERM) -> None:
        """Stop a process started through ``namespace.wrap``: ``sig`` to its init, then kill all.

        The init is the child of ``unshare``; once it exits the kernel kills every other process
        of the PID namespace, so nothing can be left behind.
        """
        if not self.alive(handle):
            return
        executor.stop_group(
            handle.pid,
            gone=functools.partial(self.wait_gone, handle),
            grace=grace,
            sig=sig,
            ask=functools.partial(_signal_inits, handle.pid),
            kill_wait=10,
        )


def _signal_inits(pid: int, sig: int) -> None:
    """``sig`` to the namespace's init (the children of ``unshare``)."""
    for init in children(pid):
        executor.signal_quietly(init, sig)
