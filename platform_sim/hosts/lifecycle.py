"""One namespaced process tree (an instance's supervisord, a data host, the router): spawned
in its namespaces, recorded in a pid file, waited for until ready, stopped by its namespace.

Built on the shared executor, as ``backing_services``' servers are: start (spawn, then wait
until a real check says ready, with a deadline), a liveness test, and a stop that leaves
nothing of the tree behind.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from machine import executor
from platform_sim.errors import NeverReady, PlatformError
from platform_sim.files import read_json, write_json
from platform_sim.hosts.processes import Handle, ProcessTable


@dataclass(frozen=True)
class Namespaced:
    """A process tree started through ``namespace.wrap``, recorded in ``pid_file``."""

    table: ProcessTable
    pid_file: Path
    log: Path

    def spawn(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> Handle:
        """Start ``argv`` (already wrapped in its namespaces) and record its pid and start."""
        handle = self.table.spawn(argv, log=self.log, env=env, cwd=cwd)
        write_json(self.pid_file, handle.to_json())
        return handle

    def handle(self) -> Handle | None:
        """The recorded process, if it still runs."""
        handle = Handle.from_json(read_json(self.pid_file))
        return handle if handle is not None and self.table.alive(handle) else None

    def wait_ready(
        self,
        handle: Handle,
        probe: Callable[[], bool],
        *,
        timeout: float,
        failed: Callable[[str], PlatformError],
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ) -> float:
        """Poll ``probe`` until it says ready; return the seconds it took.

        ``probe`` raises NeverReady for a failure that will not pass; the process exiting or
        the deadline passing is a failure too. Each failure is ``failed(reason)`` raised.
        """
        try:
            return executor.wait_ready(
                probe,
                alive=lambda: self.table.alive(handle),
                timeout=timeout,
                clock=clock,
                interval=interval,
            )
        except (NeverReady, executor.NotStarted) as exc:
            raise failed(str(exc)) from None

    def stop(self, grace: float, sig: int = signal.SIGTERM) -> None:
        """``sig`` to the namespace's first process, kill the namespace at the deadline."""
        handle = Handle.from_json(read_json(self.pid_file))
        if handle is not None:
            self.table.stop_namespace(handle, grace, sig=sig)
        self.pid_file.unlink(missing_ok=True)
