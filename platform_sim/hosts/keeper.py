"""Keep one command running: ``python -m platform_sim.hosts.keeper NAME -- CMD…``.

The platform's own processes that nothing else watches (the router's nginx, its loopback
forwarder) run under this, as the init of their PID namespace: when the command exits or is
killed, whatever it left in the namespace is killed too (an nginx master's orphaned workers
would keep its port), and the command starts again after a backoff. SIGHUP is passed on (an
nginx reload); SIGTERM, SIGINT and SIGQUIT are passed on and end the keeping. Each restart is a
line on standard output, which the platform keeps beside the process's other output.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

from machine import executor
from machine.executor import descendants, reap_orphans, signal_quietly

WATCH_INTERVAL = 0.2
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # up this long: the next death starts the backoff again from the start
STOP_GRACE = 10.0  # after passing on a stop signal, the command's time to exit
PASSED_ON = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def backoff(attempt: int) -> float:
    """Seconds before restart number ``attempt`` + 1: doubling from half a second, capped."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt)


def how_it_ended(returncode: int) -> str:
    """``exit status 3`` or ``killed by SIGKILL``."""
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


def say(name: str, text: str) -> None:
    """One line of the keeper's log."""
    print(f"keeper: {time.strftime('%H:%M:%S')} {name}: {text}", flush=True)


class CommandKeeper:
    """Runs ``argv``; starts it again with backoff whenever it ends, until a stop signal."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        spawn: Callable[[Sequence[str]], subprocess.Popen] = executor.start,
        clock: Callable[[], float] = time.monotonic,
        clean_up: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.spawn = spawn
        self.clock = clock
        self.clean_up = clean_up or kill_the_rest
        self.stopping = threading.Event()
        self.stop_signal = signal.SIGTERM
        self.child: subprocess.Popen | None = None
        self.attempt = 0

    def signal(self, signum: int) -> None:
        """A signal to the keeper: passed on to the command; a stop signal ends the keeping."""
        if signum in PASSED_ON:
            self.stop_signal = signum
            self.stopping.set()
        if self.child is not None and self.child.poll() is None:
            signal_quietly(self.child.pid, signum)

    def run(self) -> int:
        """Keep the command running until a stop signal; then the command's exit status."""
        while not self.stopping.is_set():
            self.child = self.spawn(self.argv)
            started = self.clock()
            while self.child.poll() is None and not self.stopping.wait(WATCH_INTERVAL):
                pass
            if self.stopping.is_set():
                break
            if self.clock() - started > STABLE_AFTER:
                self.attempt = 0
            delay = backoff(self.attempt)
            self.attempt += 1
            ended = how_it_ended(self.child.returncode)
            say(self.name, f"{ended}: starting it again in {delay:g} s (attempt {self.attempt})")
            self.clean_up()
            if self.stopping.wait(delay):
                break
        return self._stop()

    def _stop(self) -> int:
        child = self.child
        if child is None:
            return 0
        executor.stop(child, STOP_GRACE, self.stop_signal)
        self.clean_up()
        return 0 if child.returncode in (0, -self.stop_signal) else child.returncode


def kill_the_rest() -> None:
    """Kill every process left under the keeper (as init: the command's orphans) and reap."""
    for pid in descendants(os.getpid()):
        signal_quietly(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while descendants(os.getpid()) and time.monotonic() < deadline:
        reap_orphans()
        time.sleep(0.02)
    reap_orphans()


def main(argv: Sequence[str] | None = None) -> int:
    """Keep ``CMD…`` running until SIGTERM, SIGINT or SIGQUIT."""
    parser = argparse.ArgumentParser(
        prog="python -m platform_sim.hosts.keeper", description=__doc__
    )
    parser.add_argument("name", help="what the log lines call the command")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARG…]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to keep: write NAME -- CMD [ARG…]")
    keeper = CommandKeeper(args.name, command)
    for signum in (*PASSED_ON, signal.SIGHUP):
        signal.signal(signum, lambda signum, _frame: keeper.signal(signum))
    try:
        return keeper.run()
    except (OSError, executor.CannotRun) as exc:  # the command cannot be started at all
        say(args.name, f"cannot start: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
