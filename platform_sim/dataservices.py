"""Data services and add-ons: created on the first push, kept running and reused until destroy."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import namespace
from .environment import Endpoint
from .errors import DataServiceError
from .files import read_json, tail, write_json
from .procs import Handle, ProcessTable

START_TIMEOUT = 150.0
STOP_GRACE = 45.0
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
INSIDE_HOME = "/home/dotcloud"


@dataclass(frozen=True)
class DataService:
    """One data service (or add-on) of an application and the files describing it."""

    name: str
    kind: str
    folder: Path
    user: str = "root"
    vhost: str = ""

    data = property(lambda self: self.folder / "data")
    status_file = property(lambda self: self.folder / "status.json")
    pid_file = property(lambda self: self.folder / "pid.json")
    log = property(lambda self: self.folder / "host.log")


@dataclass(frozen=True)
class Running:
    """A ready data service: how to reach it, and whether this push created it."""

    endpoint: Endpoint
    vhost: str
    provider: str
    created: bool
    seconds: float


def host_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The data host's environment: ours (provider settings included), platform_sim importable."""
    env = {key: value for key, value in base.items() if key not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PYTHONPATH"] = PACKAGE_ROOT
    env["PYTHONUNBUFFERED"] = "1"
    return env


class DataServices:
    """Starts, finds again and stops the processes that keep data services running."""

    def __init__(
        self,
        table: ProcessTable,
        *,
        python: str = sys.executable,
        unshare: str = "unshare",
        base_env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.table = table
        self.python = python
        self.unshare = unshare
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.clock = clock

    def command(self, service: DataService) -> list[str]:
        """The data host's command line, inside its namespaces."""
        argv = [
            self.python,
            "-m",
            "platform_sim.datahost",
            "--kind",
            service.kind,
            "--data",
            f"{INSIDE_HOME}/data",
            "--status",
            str(service.status_file),
            "--user",
            service.user,
        ]
        if service.vhost:
            argv += ["--vhost", service.vhost]
        return namespace.wrap(
            argv,
            tmpfs=[INSIDE_HOME],
            binds=[(str(service.data), f"{INSIDE_HOME}/data")],
            cwd="/",
            unshare=self.unshare,
        )

    def handle(self, service: DataService) -> Handle | None:
        """The data host's process, if it still runs."""
        handle = Handle.from_json(read_json(service.pid_file))
        return handle if handle is not None and self.table.alive(handle) else None

    def ensure(self, service: DataService) -> Running:
        """The running service: reused if its host runs and answers, else started."""
        started = self.clock()
        status = read_json(service.status_file, {})
        if self.handle(service) is not None and status.get("state") == "ready":
            if answers(status["host"], status["port"]):
                return self._running(status, created=False, started=started)
            self.stop(service)
        created = not service.data.exists()
        service.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        service.data.mkdir(exist_ok=True, mode=0o700)
        service.status_file.unlink(missing_ok=True)
        handle = self.table.spawn(
            self.command(service),
            log=service.log,
            env=host_environment(self.base_env),
            cwd=service.folder,
        )
        write_json(service.pid_file, handle.to_json())
        status = self._wait(service, handle)
        return self._running(status, created=created, started=started)

    def _running(self, status: dict, *, created: bool, started: float) -> Running:
        endpoint = Endpoint(
            status["host"], int(status["port"]), status["login"], status["password"]
        )
        return Running(
            endpoint,
            status.get("vhost", "/"),
            status.get("provider", ""),
            created,
            self.clock() - started,
        )

    def _wait(self, service: DataService, handle: Handle) -> dict:
        deadline = self.clock() + START_TIMEOUT
        while True:
            status = read_json(service.status_file, {})
            state = status.get("state")
            if state == "ready":
                return status
            if state == "failed" or not self.table.alive(handle):
                self.stop(service)
                reason = status.get("error") or "its process exited"
                raise DataServiceError(
                    f"[{service.name}] {service.kind} could not start: {reason.splitlines()[0]}",
                    tail(service.log, 30),
                )
            if self.clock() >= deadline:
                self.stop(service)
                raise DataServiceError(
                    f"[{service.name}] {service.kind} was not ready after {START_TIMEOUT:g} s",
                    tail(service.log, 30),
                )
            time.sleep(0.1)

    def stop(self, service: DataService, grace: float = STOP_GRACE) -> None:
        """Stop the service's server (cleanly, then by force); its data stays."""
        handle = Handle.from_json(read_json(service.pid_file))
        if handle is not None:
            self.table.stop_namespace(handle, grace)
        service.pid_file.unlink(missing_ok=True)
        status = read_json(service.status_file, {})
        if status.get("state") != "stopped" and service.status_file.exists():
            write_json(service.status_file, {**status, "state": "stopped"})

    def status(self, service: DataService) -> dict:
        """The last status the host reported, with ``state`` "stopped" if it no longer runs."""
        status = read_json(service.status_file, {})
        if self.handle(service) is None:
            status = {**status, "state": "stopped"}
        return status


def answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False
