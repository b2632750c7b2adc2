"""What ``/proc`` says about a process (alive, started when, whose parent) and signals that
tolerate a process already gone."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


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


def stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped by a signal (SIGSTOP: state ``T``); False once it is gone."""
    fields = _stat(pid)
    return fields is not None and fields[0] == "T"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        fields = _stat(pid)
    except OSError:  # /proc unreadable: ask the kernel instead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return fields is not None and fields[0] not in ("Z", "X")


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


def command_name(pid: int) -> str:
    """The process's command name (``/proc/PID/comm``), or "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def reap_orphans() -> None:
    """Collect the exit status of every dead child (a namespace's init inherits orphans)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def signal_quietly(pid: int, sig: int) -> None:
    """Send ``sig`` to ``pid``, if it still exists."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to process group ``pgid``, if it still exists (and is ours to signal)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
