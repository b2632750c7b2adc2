"""Processes we start: each in its own session, found again later by pid and start time."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from platform_sim.errors import HostError


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may hold spaces and parentheses: split after the last ")".
    return text.rsplit(")", 1)[1].split()


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot), None if it is gone or a zombie."""
    fields = _stat(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [int(word) for word in text.split()]


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (children first, then theirs)."""
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def reap_orphans() -> None:
    """Collect the exit status of every dead child (a namespace's init inherits orphans)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def command_name(pid: int) -> str:
    """The process's command name (``/proc/PID/comm``), or "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


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
        with open(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as output:
            try:
                child = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=dict(env),
                    cwd=cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                raise HostError(f"cannot run {argv[0]}: {exc.strerror}") from exc
        self._popen[child.pid] = child
        started = start_time(child.pid)
        return Handle(child.pid, started if started is not None else -1)

    def reap(self) -> None:
        """Collect the exit status of our children that have finished."""
        for pid, child in list(self._popen.items()):
            if child.poll() is not None:
                del self._popen[pid]

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
        deadline = clock() + timeout
        while self.alive(handle):
            if clock() >= deadline:
                return False
            sleep(0.05)
        return True

    def stop_namespace(self, handle: Handle, grace: float, sig: int = signal.SIGTERM) -> None:
        """Stop a process started through ``namespace.wrap``: ``sig`` to its init, then kill all.

        The init is the child of ``unshare``; once it exits the kernel kills every other process
        of the PID namespace, so nothing can be left behind.
        """
        if not self.alive(handle):
            return
        for init in children(handle.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(init, sig)
        if not self.wait_gone(handle, grace):
            for init in children(handle.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(init, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(handle.pid, signal.SIGKILL)
            self.wait_gone(handle, 10)
