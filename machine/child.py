"""A child in its own session: started with its output in a log, waited for until a real check
says ready (failing at once if it exits), its log's tail read, and stopped by asking first and
killing its whole group after a grace period, so that nothing it started is left behind."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from machine.errors import CannotRun, NotStarted
from machine.pids import kill_group, signal_quietly

TAIL_LINES = 30
LOG_MODE = 0o600  # a log we create is its owner's only: it may show passwords and paths


def start(
    argv: Sequence[str],
    *,
    log: Path | None = None,
    pipe: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    user: int | None = None,
    group: int | None = None,
    extra_groups: Sequence[int] | None = None,
) -> subprocess.Popen:
    """Start ``argv`` in a new session (its own process group) with no input; its output and
    errors appended to ``log``, or to a pipe (``pipe``), or else to ours."""
    as_user = {"user": user, "group": group, "extra_groups": extra_groups}
    output = open_log(log) if log is not None else None
    try:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe else output,
            stderr=subprocess.STDOUT if pipe or output is not None else None,
            env=None if env is None else dict(env),
            cwd=cwd,
            start_new_session=True,
            **{key: value for key, value in as_user.items() if value is not None},
        )
    except OSError as exc:
        raise CannotRun(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    finally:
        if output is not None:
            output.close()


def open_log(path: Path) -> BinaryIO:
    """``path`` opened for appending, created owner-only if it does not exist."""
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_MODE), "ab")


def wait_for(
    predicate: Callable[[], bool],
    timeout: float,
    interval: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = clock() + timeout
    while not predicate():
        if clock() >= deadline:
            return False
        sleep(interval)
    return True


def wait_ready(
    check: Callable[[], object],
    *,
    alive: Callable[[], bool],
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.1,
) -> float:
    """Poll ``check`` (true: ready) while ``alive`` holds; return the seconds it took.

    A child that exits first, or a deadline that passes, is NotStarted ("exited", "not ready
    after N s"); whatever ``check`` raises goes through (a check decides what "not yet" is).
    A child that died is never checked: it fails at once.
    """
    started = clock()
    while True:
        if not alive():
            raise NotStarted("exited", exited=True)
        if check():
            return clock() - started
        if clock() - started >= timeout:
            raise NotStarted(f"not ready after {timeout:g} s", exited=False)
        sleep(interval)


def stop_group(
    pgid: int,
    *,
    gone: Callable[[float | None], bool],
    grace: float,
    sig: int = signal.SIGTERM,
    ask: Callable[[int], None] | None = None,
    kill_wait: float | None = None,
) -> bool:
    """Send ``sig`` through ``ask`` (by default to the group's leader) and give the process
    ``grace`` seconds to be ``gone``; then SIGKILL whoever was asked and the whole group, and
    wait ``kill_wait`` seconds more (None: as long as it takes). Whether it is gone."""
    ask = ask or functools.partial(signal_quietly, pgid)
    ask(sig)
    if gone(grace):
        return True
    ask(signal.SIGKILL)
    kill_group(pgid)
    return gone(kill_wait)


def stop(child: subprocess.Popen, grace: float, sig: int = signal.SIGTERM) -> int:
    """Ask ``child`` to stop with ``sig``, kill its whole group after ``grace`` seconds, reap it;
    then kill whatever of its group is left. Its exit status."""
    if child.poll() is None:
        stop_group(child.pid, gone=functools.partial(_reaped, child), grace=grace, sig=sig)
    kill_group(child.pid)
    return child.returncode


def _reaped(child: subprocess.Popen, timeout: float | None) -> bool:
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def log_tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ("" when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 200 * lines))
            data = handle.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
