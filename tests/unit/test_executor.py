"""The one process executor: start in a session, ready by a check, log tail, graceful stop,
SIGKILL to the whole group after the grace period, nothing left behind (real short processes)."""

import os
import signal
import stat
import subprocess
import time

import pytest

from machine import executor
from machine.executor import CannotRun, NotStarted
from tests.pace import quick, within


def not_a_zombie(child: subprocess.Popen) -> bool:
    """The child was reaped: the kernel holds nothing of it."""
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)
    return executor.start_time(child.pid) is None


def test_start_runs_the_child_in_its_own_session_with_its_output_in_a_private_log(tmp_path):
    log = tmp_path / "child.log"
    child = executor.start(["sh", "-c", "echo out; echo err >&2; exec sleep 30"], log=log)
    try:
        assert os.getsid(child.pid) == os.getpgid(child.pid) == child.pid != os.getpgid(0)
        assert executor.wait_for(lambda: executor.log_tail(log) == "out\nerr", 5)
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
    finally:
        assert executor.stop(child, grace=5) == -signal.SIGTERM
    assert not_a_zombie(child)


def test_a_piped_child_writes_to_the_pipe():
    child = executor.start(["sh", "-c", "echo one; echo two >&2"], pipe=True)
    assert child.stdout.read() == b"one\ntwo\n"
    child.stdout.close()
    assert executor.stop(child, grace=5) == 0


def test_a_program_that_cannot_run_is_one_line(tmp_path):
    with pytest.raises(CannotRun, match=r"^cannot run /nonexistent/server: No such file"):
        executor.start(["/nonexistent/server"], log=tmp_path / "log")


def test_ready_when_the_check_says_so():
    sleeps = []
    answers = iter([False, False, True])
    took = executor.wait_ready(
        lambda: next(answers),
        alive=lambda: True,
        timeout=10,
        clock=lambda: sum(sleeps),
        sleep=sleeps.append,
    )
    assert sleeps == [0.1, 0.1]
    assert took == pytest.approx(0.2)


def test_the_deadline_is_not_started():
    sleeps = []
    with pytest.raises(NotStarted, match=r"^not ready after 2 s$") as caught:
        executor.wait_ready(
            lambda: False,
            alive=lambda: True,
            timeout=2,
            clock=lambda: sum(sleeps),
            sleep=sleeps.append,
        )
    assert not caught.value.exited
    assert sum(sleeps) == pytest.approx(2, abs=0.11)


def test_a_dead_child_fails_at_once_unchecked():
    def check():
        pytest.fail("a dead child was checked")

    with pytest.raises(NotStarted, match="^exited$") as caught:
        executor.wait_ready(check, alive=lambda: False, timeout=10, sleep=pytest.fail)
    assert caught.value.exited


def test_what_the_check_raises_goes_through():
    def broken():
        raise LookupError("gave up")

    with pytest.raises(LookupError, match="gave up"):
        executor.wait_ready(broken, alive=lambda: True, timeout=10)


def test_a_real_child_that_exits_at_once_fails_the_wait_at_once(tmp_path):
    log = tmp_path / "log"
    child = executor.start(["sh", "-c", "echo 'FATAL: bad config'; exit 3"], log=log)
    started = time.monotonic()
    with pytest.raises(NotStarted, match="exited"):
        executor.wait_ready(lambda: False, alive=lambda: child.poll() is None, timeout=120)
    assert time.monotonic() - started < quick(2, timeout=120)
    assert child.returncode == 3
    assert executor.log_tail(log) == "FATAL: bad config"


def test_a_child_is_started_waited_for_and_stopped_gracefully(tmp_path):
    ready, log = tmp_path / "ready", tmp_path / "log"
    script = f"trap 'echo bye; exit 0' TERM; touch {ready}; while :; do sleep 0.05; done"
    child = executor.start(["sh", "-c", script], log=log)
    assert executor.wait_ready(ready.exists, alive=lambda: child.poll() is None, timeout=10) < 10
    assert executor.stop(child, grace=5) == 0
    assert executor.log_tail(log, 1) == "bye"
    assert not_a_zombie(child)


def test_a_child_deaf_to_its_stop_signal_is_killed_with_its_whole_tree(tmp_path):
    deepest = tmp_path / "deepest"
    inner = f"sleep 60 & echo $! > {deepest}; wait"
    outer = f"trap '' TERM; sh -c '{inner}' & wait"
    child = executor.start(["sh", "-c", outer], log=tmp_path / "log")
    assert executor.wait_for(lambda: deepest.exists() and deepest.read_text(), 5)
    tree = executor.descendants(child.pid)
    assert int(deepest.read_text()) in tree and len(tree) == 2  # a grandchild and its child
    started = time.monotonic()
    assert executor.stop(child, grace=0.3) == -signal.SIGKILL
    assert time.monotonic() - started < within(5)
    assert not_a_zombie(child)
    assert executor.wait_for(lambda: not any(map(executor.pid_alive, tree)), 5)


def test_stop_group_asks_whom_it_is_told_then_kills_them_and_the_group(tmp_path):
    child = executor.start(["sh", "-c", "trap '' TERM INT; sleep 60 & wait"], log=tmp_path / "l")
    assert executor.wait_for(lambda: executor.children(child.pid), 5)
    asked = []

    def ask(sig):
        asked.append(sig)
        executor.signal_quietly(child.pid, sig)

    def gone(timeout):
        return executor.wait_for(lambda: child.poll() is not None, timeout or 5)

    grandchildren = executor.children(child.pid)
    assert executor.stop_group(child.pid, gone=gone, grace=0.2, sig=signal.SIGINT, ask=ask)
    assert asked == [signal.SIGINT, signal.SIGKILL]
    assert executor.wait_for(lambda: not any(map(executor.pid_alive, grandchildren)), 5)


def test_what_proc_says_about_a_process():
    assert executor.pid_alive(os.getpid())
    assert executor.start_time(os.getpid()) > 0
    assert executor.command_name(os.getpid())
    child = subprocess.Popen(["true"])
    child.wait()
    assert not executor.pid_alive(child.pid)
    assert executor.start_time(child.pid) is None
    assert executor.command_name(child.pid) == ""


def test_the_log_tail_is_the_last_whole_lines_even_of_bytes_that_are_not_text(tmp_path):
    log = tmp_path / "log"
    log.write_bytes(b"x" * 10_000 + b"\nnot \xff text\nlast, unfinished")
    assert executor.log_tail(log, 2) == "not \ufffd text\nlast, unfinished"
    assert executor.log_tail(tmp_path / "missing") == ""
