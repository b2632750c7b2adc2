"""Run one build or deploy step: output streamed line by line with a prefix, a time limit, and
on failure a StepFailed with the exit status and the tail of the output."""

from __future__ import annotations

import collections
import contextlib
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from machine import executor
from machine.executor import kill_group
from platform_sim.errors import HostError, StepFailed
from platform_sim.output import Printer

TAIL_LINES = 25
_LIVE: set[int] = set()
_LIVE_LOCK = threading.Lock()


def live_steps() -> list[int]:
    """The process groups of the steps running now."""
    with _LIVE_LOCK:
        return sorted(_LIVE)


def kill_live_steps() -> None:
    """Kill every running step's process group (on interruption: nothing may outlive us)."""
    for pgid in live_steps():
        kill_group(pgid)


def run_step(
    argv: Sequence[str],
    *,
    prefix: str,
    step: str,
    printer: Printer,
    env: Mapping[str, str],
    cwd: Path | str | None = None,
    timeout: float = 600.0,
    log: Path | None = None,
) -> float:
    """Run ``argv`` to completion; return its duration or raise StepFailed."""
    started = time.monotonic()
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    try:
        child = executor.start(argv, pipe=True, env=env, cwd=cwd)
    except executor.CannotRun as exc:
        raise HostError(f"[{prefix}] {step}: {exc}") from exc
    expired = threading.Event()  # set before the kill: the step's end never outruns it
    timer = threading.Timer(timeout, _expire, (child.pid, expired))
    timer.daemon = True
    try:
        with _LIVE_LOCK:
            _LIVE.add(child.pid)
        timer.start()
        _stream(child, prefix, printer, tail, log)
        status = child.wait()
        timed_out = expired.is_set() and status != 0
    finally:
        _finish(child, timer)
    if timed_out:
        tail.append(f"(stopped after the {timeout:g} s limit)")
        raise StepFailed(prefix, step, None, "\n".join(tail))
    if status != 0:
        raise StepFailed(prefix, step, status, "\n".join(tail))
    return time.monotonic() - started


def _expire(pgid: int, expired: threading.Event) -> None:
    """The time limit: say so, then kill the step's process group."""
    expired.set()
    kill_group(pgid)


def _stream(
    child: subprocess.Popen,
    prefix: str,
    printer: Printer,
    tail: collections.deque,
    log: Path | None,
) -> None:
    """Copy the step's output to the printer, the tail and the log, line by line."""
    with _log_file(log) as record:
        for raw in child.stdout:
            if record:
                record.write(raw)
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            printer.line(prefix, line)


def _finish(child: subprocess.Popen, timer: threading.Timer) -> None:
    """Cancel the time limit and kill whatever the step left running (all of it, if cut short)."""
    try:
        timer.cancel()
        kill_group(child.pid)
        child.stdout.close()
        child.wait()
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(child.pid)


def _log_file(log: Path | None) -> contextlib.AbstractContextManager:
    """The step's log, opened owner-only for appending (or nothing)."""
    if log is None:
        return contextlib.nullcontext()
    return executor.open_log(log)
