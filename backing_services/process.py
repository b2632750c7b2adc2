"""Server child processes: spawn in their own group, wait until ready, stop, read logs."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .accounts import Account
from .errors import ServiceStartError

TAIL_LINES = 30


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
    with open(log_path, "ab") as log:
        try:
            return subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=None if env is None else dict(env),
                cwd=cwd,
                start_new_session=True,
                **as_account,
            )
        except OSError as exc:
            raise ServiceStartError(f"cannot run {argv[0]}: {exc}") from exc


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


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return text.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to process group ``pgid``, if it still exists."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


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
    started = clock()
    while True:
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last = exc
        else:
            return clock() - started
        if not alive():
            raise ServiceStartError(
                f"{what} exited while starting (last check: {last})", tail()
            ) from last
        if clock() - started >= timeout:
            raise ServiceStartError(
                f"{what} was not ready after {timeout:g} s (last check: {last}); stopping it",
                tail(),
            ) from last
        sleep(interval)


def stop_child(proc: subprocess.Popen, timeout: float, sig: int = signal.SIGTERM) -> None:
    """Ask ``proc`` to stop with ``sig``, kill its whole group after ``timeout``, reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            proc.wait()
    kill_group(proc.pid)
