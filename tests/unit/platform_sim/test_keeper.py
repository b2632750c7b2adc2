"""The command keeper: a command that ends is started again with backoff, signals are passed
on, a stop signal ends the keeping and leaves nothing running."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from platform_sim.hosts import keeper
from platform_sim.hosts.keeper import CommandKeeper, backoff, how_it_ended

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_the_backoff_doubles_from_half_a_second_up_to_its_cap():
    assert [backoff(n) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff(20) == keeper.BACKOFF_MAX


def test_how_a_command_ended_is_said_plainly():
    assert how_it_ended(3) == "exit status 3"
    assert how_it_ended(-signal.SIGKILL) == "killed by SIGKILL"


class Spawns:
    """Starts the real command and remembers each process."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def __call__(self, argv):
        process = subprocess.Popen(argv)
        self.started.append(process)
        return process

    def wait_for(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.started) < count:
            assert time.monotonic() < deadline, f"only {len(self.started)} start(s)"
            time.sleep(0.01)


def wait_until(predicate, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(keeper, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(keeper, "WATCH_INTERVAL", 0.001)


def keep(spawns: Spawns, argv=SLEEPER, **options) -> tuple[CommandKeeper, threading.Thread]:
    kept = CommandKeeper("sleeper", argv, spawn=spawns, clean_up=lambda: None, **options)
    thread = threading.Thread(target=kept.run, daemon=True)
    thread.start()
    return kept, thread


def test_a_killed_command_is_started_again_and_said(fast, capsys):
    spawns = Spawns()
    kept, thread = keep(spawns)
    spawns.wait_for(1)
    spawns.started[0].kill()
    spawns.wait_for(2)
    kept.signal(signal.SIGTERM)
    thread.join(10)
    assert not thread.is_alive()
    assert all(process.poll() is not None for process in spawns.started)
    assert "sleeper: killed by SIGKILL: starting it again in 0.01 s (attempt 1)" in (
        capsys.readouterr().out
    )


def test_each_quick_failure_waits_longer(fast, monkeypatch):
    waits = []
    spawns = Spawns()
    kept = CommandKeeper("false", ["false"], spawn=spawns, clean_up=lambda: None)

    def wait(seconds):
        if seconds != keeper.WATCH_INTERVAL:
            waits.append(seconds)
        if len(waits) >= 3:
            kept.stopping.set()
        time.sleep(keeper.WATCH_INTERVAL)
        return kept.stopping.is_set()

    monkeypatch.setattr(kept.stopping, "wait", wait)
    kept.run()
    assert waits == [0.01, 0.02, 0.04]
    assert len(spawns.started) == 3


def test_a_hangup_is_passed_on_and_the_keeping_goes_on(fast, tmp_path):
    ready, marker = tmp_path / "ready", tmp_path / "hups"
    script = (
        "import pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGHUP, lambda *_: pathlib.Path(sys.argv[2]).touch())\n"
        "pathlib.Path(sys.argv[1]).touch()\n"
        "time.sleep(60)"
    )
    spawns = Spawns()
    kept, thread = keep(spawns, [sys.executable, "-c", script, str(ready), str(marker)])
    wait_until(ready.exists, "the command to install its handler")
    # the command can be running before the keeper's thread has recorded it as its child
    wait_until(lambda: kept.child is not None, "the keeper to record its child")
    kept.signal(signal.SIGHUP)
    wait_until(marker.exists, "the hangup to reach the command")
    assert not kept.stopping.is_set() and len(spawns.started) == 1
    kept.signal(signal.SIGQUIT)
    thread.join(10)
    assert spawns.started[0].returncode == -signal.SIGQUIT


def test_the_keeper_refuses_an_empty_command(capsys):
    with pytest.raises(SystemExit) as exited:
        keeper.main(["router"])
    assert exited.value.code == 2
    assert "no command to keep: write NAME -- CMD" in capsys.readouterr().err
