"""Server child processes, on the shared executor: spawn in their own group, wait until ready,
stop, read logs; the executor's errors become ServiceStartError."""

import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from machine import executor
from machine.child import TAIL_LINES
from machine.executor import kill_group, log_tail, pid_alive, wait_for

from .accounts import Account
from .errors import ServiceStartError

__all__ = [
    "TAIL_LINES",
    "kill_group",
    "log_tail",
    "pid_alive",
    "spawn",
    "stop_child",
    "wait_for",
    "wait_until_ready",
]


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    account: Account | None = None,
) -> subprocess.Popen:
    """Start ``argv`` in a new session (its own process group), appending output to the log."""
    as_account = {}
    if account is not None:
        as_account = {"user": account.uid, "group": account.gid, "extra_groups": account.groups}
    try:
        return executor.start(argv, log=log_path, env=env, cwd=cwd, **as_account)
    except executor.CannotRun as exc:
        raise ServiceStartError(str(exc)) from exc


def wait_until_ready(
    check: Callable[[], object],
    *,
    alive: Callable[[], bool],
    timeout: float,
    what: str,
    tail: Callable[[], str],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.1,
) -> float:
    """Poll ``check`` (raises until ready); fail at once if the child dies, or at the deadline.

    Returns the seconds it took.
    """
    last: list[Exception] = []

    def answers() -> bool:
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last[:] = [exc]
            return False
        return True

    try:
        return executor.wait_ready(
            answers, alive=alive, timeout=timeout, clock=clock, sleep=sleep, interval=interval
        )
    except executor.NotStarted as exc:
        if not last:
            answers()  # dead before its first check: what the check says is the best reason
        cause = last[0] if last else None
        if exc.exited:
            message = f"{what} exited while starting (last check: {cause})"
        else:
            message = f"{what} was not ready after {timeout:g} s (last check: {cause}); stopping it"
        raise ServiceStartError(message, tail()) from cause


def stop_child(proc: subprocess.Popen, timeout: float, sig: int = signal.SIGTERM) -> None:
    """Ask ``proc`` to stop with ``sig``, kill its whole group after ``timeout``, reap it."""
    executor.stop(proc, timeout, sig)
