"""The front HTTP router: one nginx per app, one URL per web service, switched atomically."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import namespace, nginx
from .address import LOOPBACK, host_port
from .errors import HostError
from .files import tail, write_text
from .instance import nginx_path
from .kinds import answers
from .lifecycle import Namespaced
from .procs import Handle, ProcessTable, children

STOP_GRACE = 10.0


class Router:
    """The router of one application, living in its ``router/`` folder."""

    def __init__(
        self,
        folder: Path,
        app: str,
        table: ProcessTable,
        *,
        nginx_binary: str | None = None,
        unshare: str = "unshare",
    ) -> None:
        self.folder = folder
        self.app = app
        self.table = table
        self.nginx = nginx_binary or nginx_path()
        self.unshare = unshare

    config = property(lambda self: self.folder / "nginx.conf")
    pid_file = property(lambda self: self.folder / "pid.json")
    address = LOOPBACK

    @property
    def process(self) -> Namespaced:
        """The router's process tree (one nginx)."""
        return Namespaced(self.table, self.pid_file, self.folder / "nginx.out")

    def handle(self) -> Handle | None:
        """The router's process if it runs."""
        return self.process.handle()

    def switch(
        self,
        generation: int,
        services: Mapping[str, tuple[int, Sequence[int]]],
        hosts: Mapping[int, str] | None = None,
    ) -> float:
        """Send each web service's traffic to these instance ports (on the instances' hosts,
        ``hosts`` by port; loopback for a port not in it): new config, then reload."""
        started = time.monotonic()
        (self.folder / "tmp").mkdir(parents=True, exist_ok=True, mode=0o700)
        text = nginx.render_router(
            app=self.app,
            generation=generation,
            directory=str(self.folder),
            services=services,
            upstream_hosts=hosts or {},
        )
        candidate = self.folder / "nginx.conf.new"
        write_text(candidate, text)
        self._test(candidate)
        previous = self.config.read_text() if self.config.is_file() else None
        os.replace(candidate, self.config)
        handle = self.handle()
        if handle is None:
            handle = self._start()
        else:
            try:
                self._reload(handle)
            except HostError:
                if previous is not None:
                    write_text(self.config, previous)
                raise
        for port, _ in services.values():
            self._wait_listening(port, handle)
        return time.monotonic() - started

    def _reload(self, handle: Handle, timeout: float = 10.0) -> None:
        """SIGHUP to nginx's master; check it started new workers, then let the old ones go.

        A configuration nginx rejects at run time (a port it cannot bind…) leaves the old
        workers serving and no new ones: that is a HostError with the end of the error log.
        """
        for master in children(handle.pid):
            old_workers = set(children(master))
            with contextlib.suppress(ProcessLookupError):
                os.kill(master, signal.SIGHUP)
            deadline = time.monotonic() + timeout
            if old_workers and not self._new_workers(master, old_workers, deadline):
                raise HostError(
                    "the router's nginx refused the new configuration (kept the old one)",
                    tail(self.folder / "error.log", 10),
                )
            while old_workers & set(children(master)) and time.monotonic() < deadline:
                time.sleep(0.02)

    @staticmethod
    def _new_workers(master: int, old_workers: set[int], deadline: float) -> bool:
        """Wait until ``master`` has a worker that is not an old one; False at the deadline."""
        while not set(children(master)) - old_workers:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _test(self, config: Path) -> None:
        result = subprocess.run(
            [self.nginx, "-t", "-q", "-c", str(config), "-e", str(self.folder / "error.log")],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise HostError(f"the router's nginx configuration is invalid: {result.stderr.strip()}")

    def _start(self) -> Handle:
        argv = [self.nginx, "-c", str(self.config), "-e", str(self.folder / "error.log")]
        return self.process.spawn(
            namespace.wrap(argv, cwd=str(self.folder), unshare=self.unshare),
            env={"PATH": "/usr/sbin:/usr/bin:/bin"},
            cwd=self.folder,
        )

    def _wait_listening(self, port: int, handle: Handle, timeout: float = 15.0) -> None:
        def failed(_: str) -> HostError:
            return HostError(
                f"the router did not listen on {host_port(port, self.address)}",
                tail(self.folder / "error.log", 10) + tail(self.folder / "nginx.out", 10),
            )

        self.process.wait_ready(
            handle,
            lambda: answers(self.address, port, timeout=1),
            timeout=timeout,
            failed=failed,
            interval=0.05,
        )

    def stop(self) -> None:
        """Stop the router (graceful SIGQUIT, then kill)."""
        self.process.stop(STOP_GRACE, sig=signal.SIGQUIT)
