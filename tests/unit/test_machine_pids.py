"""What /proc says about a process: stopped by SIGSTOP or not, on a real child process."""

from __future__ import annotations

import os
import signal
import time

from machine.pids import stopped
from tests.unit.test_pausing import sleeper


def wait_until(condition) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_process_is_stopped_between_sigstop_and_sigcont_and_never_once_gone():
    with sleeper() as child:
        assert not stopped(child.pid)
        os.kill(child.pid, signal.SIGSTOP)
        wait_until(lambda: stopped(child.pid))
        os.kill(child.pid, signal.SIGCONT)
        wait_until(lambda: not stopped(child.pid))
    assert not stopped(child.pid)
