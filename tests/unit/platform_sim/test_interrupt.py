"""Interruption (Ctrl-C, SIGTERM, SIGHUP) during steps: nothing a step started outlives it."""

import io
import os
import signal
import threading
import time

import pytest

from platform_sim.builder import steps
from platform_sim.cli import main
from platform_sim.hosts.processes import start_time
from platform_sim.output import QuietPrinter
from platform_sim.release.prepare import run_parallel
from tests.pace import quick

STEP = ["sh", "-c", "echo $$; exec sleep 30"]


def interrupt_main_after(seconds, sig=signal.SIGINT):
    """Deliver ``sig`` to the main thread (so that its blocking read is interrupted)."""
    main = threading.main_thread().ident
    timer = threading.Timer(seconds, signal.pthread_kill, (main, sig))
    timer.daemon = True
    timer.start()
    return timer


class InterruptingPrinter(QuietPrinter):
    """Keeps the lines, and interrupts the main thread (SIGINT) once ``after`` of them came:
    the steps surely run by then (each prints its pid first), however slow the machine."""

    def __init__(self, after=1):
        super().__init__()
        self.after = after
        self.sent = False

    def _write(self, text):
        super()._write(text)
        with self._lock:
            due = not self.sent and len(self.lines) >= self.after
            self.sent = self.sent or due
        if due:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def step_pid(printer):
    """The pid the step printed first (its shell, exec'd into sleep)."""
    deadline = time.monotonic() + 5
    while not printer.lines and time.monotonic() < deadline:
        time.sleep(0.01)
    return int(printer.lines[0].split()[-1])


def run_sleep(printer):
    return steps.run_step(STEP, prefix="www", step="sleep", printer=printer, env=os.environ)


def test_an_interrupted_step_leaves_no_process_group():
    printer = InterruptingPrinter()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_sleep(printer)
    assert time.monotonic() - started < quick(5, timeout=30)  # not the step's 30 s sleep
    pid = step_pid(printer)
    assert start_time(pid) is None
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert steps.live_steps() == []


def test_interrupting_parallel_jobs_kills_their_steps():
    printer = InterruptingPrinter(after=2)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_parallel({"a": lambda: run_sleep(printer), "b": lambda: run_sleep(printer)}, {})
    assert time.monotonic() - started < quick(5, timeout=30)
    for line in printer.lines[:2]:
        pid = int(line.split()[-1])
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    assert steps.live_steps() == []


def test_the_time_limit_timer_is_a_daemon(monkeypatch):
    made = []
    real = threading.Timer

    def timer(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(threading, "Timer", timer)
    steps.run_step(["true"], prefix="www", step="t", printer=QuietPrinter(), env=os.environ)
    assert made and made[0].daemon


class SleepingCommands:
    """A command that runs a sleep step until ``SIGNAL`` interrupts it: sent from inside the
    command, so the CLI's handlers are in place however slowly the machine got there."""

    SIGNAL = signal.SIGINT

    def __init__(self, out, make):
        self.printer = QuietPrinter()

    def info(self, args):
        interrupt_main_after(0.3, self.SIGNAL)
        run_sleep(self.printer)
        return 0


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_stop_signal_interrupts_the_command_like_ctrl_c(monkeypatch, sig, status):
    monkeypatch.setattr(main, "Commands", type("Stopped", (SleepingCommands,), {"SIGNAL": sig}))
    previous = signal.getsignal(signal.SIGTERM)
    err = io.StringIO()
    assert main.main(["info"], out=io.StringIO(), err=err) == status
    assert err.getvalue() == f"platform_sim: interrupted by {signal.Signals(sig).name}\n"
    assert steps.live_steps() == []
    assert signal.getsignal(signal.SIGTERM) is previous
