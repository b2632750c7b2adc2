"""The integration tests' pausing helper: a paused process runs again on SIGCONT, and a late
SIGCONT never reaches a process that was not paused by it (pids are reused)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration import pausing


def state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def wait_for_state(pid: int, wanted: str) -> None:
    deadline = time.monotonic() + 10
    while state(pid) != wanted:
        assert time.monotonic() < deadline, f"{pid} is {state(pid)}, not {wanted}"
        time.sleep(0.01)


@contextlib.contextmanager
def sleeper():
    """A sleeping child process, killed at the end."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def test_a_paused_process_runs_again_and_a_second_resume_sends_nothing():
    with sleeper() as child:
        pausing.signal_all([child.pid], signal.SIGSTOP)
        wait_for_state(child.pid, "T")
        pausing.signal_all([child.pid], signal.SIGCONT)
        wait_for_state(child.pid, "S")
        assert child.pid not in pausing._PAUSED  # a late resume (a finally) sends nothing


def test_a_resume_never_reaches_a_process_it_did_not_pause():
    with sleeper() as child:
        child.send_signal(signal.SIGSTOP)  # frozen by someone else (another test)
        wait_for_state(child.pid, "T")
        pausing.signal_all([child.pid], signal.SIGCONT)
        time.sleep(0.2)
        assert state(child.pid) == "T"


def test_a_resume_skips_a_reused_pid():
    with sleeper() as child:
        pausing.signal_all([child.pid], signal.SIGSTOP)
        wait_for_state(child.pid, "T")
        pausing._PAUSED[child.pid] = -1  # as if it had ended and its pid been reused
        pausing.signal_all([child.pid], signal.SIGCONT)
        time.sleep(0.2)
        assert state(child.pid) == "T"
