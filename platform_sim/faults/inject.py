"""Inject faults into a running application and always undo them.

A ``Faults`` object is a context manager: every fault it injects (a stopped process, a stopped
data service, a network partition made of firewall rules inside the hosts' namespaces) is
recorded with its undo, and every undo runs when the block ends — normally, on an exception, on
Ctrl-C or on SIGTERM (turned into ``Interrupted`` while the block runs). Killing a process needs
no undo: the platform brings it back. Processes are named by pid (found through the platform's
own pid records, never by name); partitions are ``iptables`` rules run with ``ip netns exec``
in each host's namespace, never route changes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from platform_sim.errors import PlatformError

RULE_COMMENT = "platform_sim-fault"


class FaultError(PlatformError):
    """A fault could not be injected or undone."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) arrived while faults were injected."""


def run_command(argv: Sequence[str]) -> None:
    """Run ``argv``; a failure is a FaultError quoting its message."""
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FaultError(f"{' '.join(argv)} failed: {result.stderr.strip() or result.returncode}")


def send_signal(pid: int, sig: int) -> None:
    """``os.kill``, where a process already gone is no error."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


@dataclass(frozen=True)
class Endpoint:
    """One side of a partition: a host's network namespace and its address."""

    netns: str
    address: str


@dataclass
class Fault:
    """One injected fault: what it is, when it began, how to undo it."""

    what: str
    undo: Callable[[], None]
    started: float = field(default_factory=time.monotonic)


def partition_rules(side: Endpoint, other: Endpoint) -> list[list[str]]:
    """The iptables rule specs that cut ``side`` off from ``other`` (both directions)."""
    tag = ["-m", "comment", "--comment", RULE_COMMENT, "-j", "DROP"]
    return [
        ["INPUT", "-s", other.address, *tag],
        ["OUTPUT", "-d", other.address, *tag],
    ]


class Faults:
    """Injects faults, records each with its undo, and undoes them all when the block ends."""

    def __init__(
        self,
        *,
        run: Callable[[Sequence[str]], None] = run_command,
        kill: Callable[[int, int], None] = send_signal,
        log: Callable[[str], None] = lambda _text: None,
        handle_signals: bool = True,
    ) -> None:
        self._run = run
        self._kill = kill
        self._log = log
        self._handle_signals = handle_signals
        self._saved: dict[int, object] = {}
        self.active: list[Fault] = []
        self.history: list[str] = []

    # --- the block ------------------------------------------------------------------------

    def __enter__(self) -> Faults:
        if self._handle_signals:
            for signum in (signal.SIGTERM, signal.SIGHUP):
                self._saved[signum] = signal.signal(signum, self._interrupt)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.undo_all()
        finally:
            for signum, handler in self._saved.items():
                signal.signal(signum, handler)
            self._saved.clear()

    @staticmethod
    def _interrupt(signum: int, _frame: object) -> None:
        raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

    def _record(self, what: str, undo: Callable[[], None]) -> Fault:
        fault = Fault(what, undo)
        self.active.append(fault)
        self.history.append(what)
        self._log(f"fault: {what}")
        return fault

    def undo(self, fault: Fault) -> None:
        """Undo one fault now (once: a fault already undone is left alone)."""
        if fault in self.active:
            self.active.remove(fault)
            fault.undo()
            self._log(f"undone: {fault.what}")

    def undo_all(self) -> None:
        """Undo every active fault, newest first; every undo is tried even if one fails."""
        errors = []
        while self.active:
            fault = self.active[-1]
            try:
                self.undo(fault)
            except (FaultError, OSError) as exc:
                self.active = [f for f in self.active if f is not fault]
                errors.append(f"{fault.what}: {exc}")
        if errors:
            raise FaultError("could not undo " + "; ".join(errors))

    # --- the faults -----------------------------------------------------------------------

    def kill(self, pid: int, what: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (SIGKILL) to ``pid``: nothing to undo, the platform restarts it."""
        self._kill(pid, sig)
        self.history.append(f"{signal.Signals(sig).name} {what} (pid {pid})")
        self._log(f"fault: {signal.Signals(sig).name} {what} (pid {pid})")

    def freeze(self, pids: Iterable[int], what: str) -> Fault:
        """SIGSTOP every pid (undo: SIGCONT each)."""
        frozen = list(pids)
        if not frozen:
            raise FaultError(f"nothing to freeze: no process of {what} was found")

        def thaw() -> None:
            for pid in frozen:
                self._kill(pid, signal.SIGCONT)

        fault = self._record(f"SIGSTOP {what} (pids {' '.join(map(str, frozen))})", thaw)
        for pid in frozen:
            self._kill(pid, signal.SIGSTOP)
        return fault

    def stop_service(self, what: str, stop: Callable[[], None], start: Callable[[], None]) -> Fault:
        """Stop a service with ``stop`` (undo: ``start``)."""
        fault = self._record(f"stopped {what}", start)
        stop()
        return fault

    def partition(self, a: Endpoint, b: Endpoint, what: str) -> Fault:
        """Cut ``a`` and ``b`` apart with DROP rules in both namespaces (undo: delete them)."""
        added: list[tuple[str, list[str]]] = []

        def heal() -> None:
            failures = []
            for netns, spec in reversed(added):
                try:
                    self._run(["ip", "netns", "exec", netns, "iptables", "-w", "-D", *spec])
                except FaultError as exc:
                    failures.append(str(exc))
            if failures:
                raise FaultError("; ".join(failures))

        fault = self._record(f"partition {what} ({a.address} | {b.address})", heal)
        for side, other in ((a, b), (b, a)):
            for spec in partition_rules(side, other):
                self._run(["ip", "netns", "exec", side.netns, "iptables", "-w", "-I", *spec])
                added.append((side.netns, spec))
        return fault

    def hold(self, fault: Fault, seconds: float, sleep: Callable[[float], None] = time.sleep):
        """Keep ``fault`` for ``seconds``, then undo it."""
        try:
            sleep(seconds)
        finally:
            self.undo(fault)
