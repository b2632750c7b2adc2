"""The front HTTP router: one nginx per app, one URL per web service, switched atomically.

On the app's network the router is a host of its own (namespace ``router`` on the bridge) and
a loopback forwarder in the machine's namespace gives users its ports on 127.0.0.1, with the
client's address passed on in the PROXY protocol. Without a network (tests' fakes), nginx
itself listens on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from platform_sim import isolated
from platform_sim.address import LOOPBACK, host_port
from platform_sim.errors import HostError
from platform_sim.files import tail, write_text
from platform_sim.hosts import namespace
from platform_sim.hosts.instance import nginx_path
from platform_sim.hosts.lifecycle import Namespaced
from platform_sim.hosts.network import Network, subnet_address
from platform_sim.hosts.processes import Handle, ProcessTable, children, command_name
from platform_sim.kinds.base import answers
from platform_sim.render import nginx

STOP_GRACE = 10.0
HOST_KEY = "router"
KEPT_ENV = {"PATH": "/usr/sbin:/usr/bin:/bin"}


def nginx_masters(handle: Handle) -> list[int]:
    """The router's nginx master: its namespace's init (the keeper) or that init's child."""
    inits = children(handle.pid)
    candidates = [*inits, *(pid for init in inits for pid in children(init))]
    return [pid for pid in candidates if command_name(pid) == "nginx"]


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
        network: Network | None = None,
        python: str = sys.executable,
    ) -> None:
        self.folder = folder
        self.app = app
        self.table = table
        self.nginx = nginx_binary or nginx_path()
        self.unshare = unshare
        self.network = network
        self.python = python

    config = property(lambda self: self.folder / "nginx.conf")
    pid_file = property(lambda self: self.folder / "pid.json")
    forwarder_file = property(lambda self: self.folder / "forwarder.json")
    address = LOOPBACK  # where users reach it

    @property
    def host_address(self) -> str | None:
        """The router's own address on the app's bridge (None: it listens on loopback)."""
        if self.network is None:
            return None
        entry = self.network.recorded(HOST_KEY)
        return entry["address"] if entry else None

    @property
    def forwarder(self) -> Namespaced:
        """The loopback forwarder's process tree."""
        return Namespaced(self.table, self.forwarder_file, self.folder / "forwarder.out")

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
        netns, listen, bridge = None, LOOPBACK, None
        if self.network is not None:
            if self.network.recorded(HOST_KEY) is None and self.handle() is not None:
                self.process.stop(STOP_GRACE, sig=signal.SIGQUIT)  # one started on loopback
            host = self.network.host(HOST_KEY, [HOST_KEY])
            netns, listen = host.netns, host.address
            bridge = subnet_address(self.network.subnet(), 1)
        text = nginx.render_router(
            app=self.app,
            generation=generation,
            directory=str(self.folder),
            services=services,
            address=listen,
            upstream_hosts=hosts or {},
            forwarder=bridge,
        )
        candidate = self.folder / "nginx.conf.new"
        write_text(candidate, text)
        self._test(candidate, netns)
        previous = self.config.read_text() if self.config.is_file() else None
        os.replace(candidate, self.config)
        handle = self.handle()
        if handle is None:
            handle = self._start(netns)
        else:
            try:
                self._reload(handle)
            except HostError:
                if previous is not None:
                    write_text(self.config, previous)
                raise
        for port, _ in services.values():
            self._wait_listening(port, handle, listen)
        if self.network is not None:
            self._forward(sorted(port for port, _ in services.values()), listen)
        return time.monotonic() - started

    def _kept(self, name: str, argv: Sequence[str]) -> list[str]:
        """``argv`` run by the platform's keeper: started again whenever it dies."""
        return isolated.command(self.python, "platform_sim.hosts.keeper", name, "--", *argv)

    def _forward(self, ports: Sequence[int], target: str, timeout: float = 15.0) -> None:
        """Run the loopback forwarder for these ports (restarted only if they changed)."""
        argv = isolated.command(self.python, "platform_sim.hosts.forwarder")
        argv += [f"{port}={host_port(port, target)}" for port in ports]
        handle = self.forwarder.handle()
        command_file = self.folder / "forwarder.args"
        unchanged = command_file.is_file() and command_file.read_text() == " ".join(argv)
        if handle is not None and unchanged:
            return
        self.forwarder.stop(STOP_GRACE)
        write_text(command_file, " ".join(argv))
        handle = self.forwarder.spawn(
            namespace.wrap(
                self._kept("forwarder", argv), cwd=str(self.folder), unshare=self.unshare
            ),
            env=KEPT_ENV,
            cwd=self.folder,
        )
        for port in ports:
            self.forwarder.wait_ready(
                handle,
                lambda port=port: answers(LOOPBACK, port, timeout=1),
                timeout=timeout,
                failed=lambda reason: HostError(
                    f"the router's loopback forwarder did not listen ({reason})",
                    tail(self.folder / "forwarder.out", 10),
                ),
                interval=0.05,
            )

    def _reload(self, handle: Handle, timeout: float = 10.0) -> None:
        """SIGHUP to nginx's master; check it started new workers, then let the old ones go.

        A configuration nginx rejects at run time (a port it cannot bind…) leaves the old
        workers serving and no new ones: that is a HostError with the end of the error log.
        """
        for master in nginx_masters(handle):
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

    def _test(self, config: Path, netns: str | None = None) -> None:
        argv = [self.nginx, "-t", "-q", "-c", str(config), "-e", str(self.folder / "error.log")]
        if netns is not None and self.network is not None:
            argv = [self.network.ip, "netns", "exec", netns, *argv]  # it binds its address
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise HostError(f"the router's nginx configuration is invalid: {result.stderr.strip()}")

    def _start(self, netns: str | None = None) -> Handle:
        argv = [self.nginx, "-c", str(self.config), "-e", str(self.folder / "error.log")]
        ip = self.network.ip if self.network is not None else "ip"
        return self.process.spawn(
            namespace.wrap(
                self._kept("router nginx", argv),
                cwd=str(self.folder),
                unshare=self.unshare,
                netns=netns,
                ip=ip,
            ),
            env=KEPT_ENV,
            cwd=self.folder,
        )

    def _wait_listening(
        self, port: int, handle: Handle, address: str = LOOPBACK, timeout: float = 15.0
    ) -> None:
        def failed(_: str) -> HostError:
            return HostError(
                f"the router did not listen on {host_port(port, address)}",
                tail(self.folder / "error.log", 10) + tail(self.folder / "nginx.out", 10),
            )

        self.process.wait_ready(
            handle,
            lambda: answers(address, port, timeout=1),
            timeout=timeout,
            failed=failed,
            interval=0.05,
        )

    def stop(self) -> None:
        """Stop the forwarder, then the router (graceful SIGQUIT, then kill), then its host."""
        self.forwarder.stop(STOP_GRACE)
        (self.folder / "forwarder.args").unlink(missing_ok=True)
        self.process.stop(STOP_GRACE, sig=signal.SIGQUIT)
        if self.network is not None:
            self.network.remove([HOST_KEY])
