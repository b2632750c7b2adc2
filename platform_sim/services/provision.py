"""Data services and add-ons: created on the first push, kept running and reused until destroy."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from platform_sim import isolated
from platform_sim.appfile.environment import HOME_INSIDE, Endpoint
from platform_sim.errors import DataServiceError, NeverReady
from platform_sim.files import read_json, tail, write_json
from platform_sim.hosts import namespace
from platform_sim.hosts.lifecycle import Namespaced
from platform_sim.hosts.network import Network
from platform_sim.hosts.processes import Handle, ProcessTable
from platform_sim.kinds import rabbitmq_cluster
from platform_sim.kinds.base import APP_DATABASE, APP_LOGIN, answers
from platform_sim.kinds.registry import KINDS
from platform_sim.services import approle

START_TIMEOUT = 150.0
STOP_GRACE = 45.0
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class DataService:
    """One data service (or add-on) of an application and the files describing it."""

    name: str
    kind: str
    folder: Path
    user: str = "root"
    vhost: str = ""
    node: int = 0  # which node of a cluster (its folder: ``node-<n>`` in node 0's, from 1)
    size: int = 0  # the cluster's size; 0: not a cluster
    cookie: Path | None = None  # the cluster's Erlang cookie, one file per application

    data = property(lambda self: self.folder / "data")
    status_file = property(lambda self: self.folder / "status.json")
    pid_file = property(lambda self: self.folder / "pid.json")
    log = property(lambda self: self.folder / "host.log")

    @property
    def host_key(self) -> str:
        """Its host's key in the app's network (``services-db``, ``addons-cloudamqp``,
        ``services-broker-1`` for a cluster's node 1)."""
        if self.node:
            return f"{self.folder.parent.parent.name}-{self.name}-{self.node}"
        return f"{self.folder.parent.name}-{self.name}"

    @property
    def host_names(self) -> list[str]:
        """Its host's names: the service's name (node 0), ``<name>-<n>`` for a cluster node."""
        if not self.size:
            return [self.name]
        own = rabbitmq_cluster.node_host(self.name, self.node)
        return [self.name, own] if self.node == 0 else [own]

    @property
    def label(self) -> str:
        """How messages name it: ``broker``, or ``broker-1`` for a cluster's node."""
        return f"{self.name}-{self.node}" if self.node else self.name


@dataclass(frozen=True)
class Running:
    """A ready data service: how to reach it, and whether this push created it."""

    endpoint: Endpoint
    vhost: str
    provider: str
    created: bool
    seconds: float


@dataclass(frozen=True)
class Health:
    """A data service as ``status`` and ``info`` report it: a state word and why."""

    state: str
    detail: str
    status: dict

    @property
    def up(self) -> bool:
        """Whether it serves now."""
        return self.state == "running"


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
        network: Network | None = None,
    ) -> None:
        self.network = network
        self.table = table
        self.python = python
        self.unshare = unshare
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.clock = clock

    def command(self, service: DataService) -> list[str]:
        """The data host's command line, inside its namespaces."""
        argv = isolated.command(
            self.python,
            "platform_sim.services.host",
            "--kind",
            service.kind,
            "--data",
            f"{HOME_INSIDE}/data",
            "--status",
            str(service.status_file),
            "--user",
            service.user,
        )
        if service.vhost:
            argv += ["--vhost", service.vhost]
        if service.size and self.network is not None and service.cookie and service.cookie.exists():
            argv += ["--cluster", f"{service.name}:{service.node}:{service.size}"]
            argv += ["--cookie-file", str(service.cookie)]
            if service.node:
                argv += ["--seed-status", str(service.cookie.parent / "status.json")]
        netns = None
        if self.network is not None:
            host = self.network.host(service.host_key, service.host_names)
            argv += ["--address", host.address]
            netns = host.netns
        return namespace.wrap(
            argv,
            tmpfs=[HOME_INSIDE],
            binds=[(str(service.data), f"{HOME_INSIDE}/data")],
            cwd="/",
            unshare=self.unshare,
            netns=netns,
            ip=self.network.ip if self.network is not None else "ip",
        )

    def process(self, service: DataService) -> Namespaced:
        """The data host's process tree."""
        return Namespaced(self.table, service.pid_file, service.log)

    def handle(self, service: DataService) -> Handle | None:
        """The data host's process, if it still runs."""
        return self.process(service).handle()

    def ensure(self, service: DataService) -> Running:
        """The running service: reused if its host runs and answers, else started."""
        started = self.clock()
        status = read_json(service.status_file, {})
        where = status.get("host")
        if self.network is not None:
            where = self.network.host(service.host_key, service.host_names).address
        if self.handle(service) is not None and status.get("state") == "ready":
            # reused where it answers on its own host (one started before it had a host is
            # started again there, data kept)
            if status.get("host") == where and answers(status["host"], status["port"]):
                return self._owned(
                    service, self._running(service, status, created=False, started=started)
                )
            self.stop(service)
        created = not service.data.exists()
        service.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        service.data.mkdir(exist_ok=True, mode=0o700)
        service.status_file.unlink(missing_ok=True)
        handle = self.process(service).spawn(
            self.command(service), env=host_environment(self.base_env), cwd=service.folder
        )
        status = self._wait(service, handle)
        running = self._running(service, status, created=created, started=started)
        return self._owned(service, running)

    def _owned(self, service: DataService, running: Running) -> Running:
        """For a kind with app roles: the app's own role and database, made by the superuser
        (again at each push), instead of the superuser's login."""
        owner = KINDS[service.kind].owner
        if owner is None:
            return running
        status = read_json(service.status_file, {})
        password = approle.kept_password(service.folder)
        try:
            owner(status, APP_LOGIN, password, APP_DATABASE)
        except Exception as exc:  # noqa: BLE001 - the driver's errors, a refused connection
            first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise DataServiceError(
                f"[{service.name}] cannot give the app its role {APP_LOGIN!r}: {first}",
                tail(service.log, 30),
            ) from None
        endpoint = running.endpoint
        return replace(
            running,
            endpoint=replace(
                endpoint, login=APP_LOGIN, password=password, database=APP_DATABASE
            ),
        )

    def _running(
        self, service: DataService, status: dict, *, created: bool, started: float
    ) -> Running:
        endpoint = Endpoint(
            status["host"], int(status["port"]), status["login"], status["password"],
            KINDS[service.kind].database,
        )
        return Running(
            endpoint,
            status.get("vhost", "/"),
            status.get("provider", ""),
            created,
            self.clock() - started,
        )

    def _wait(self, service: DataService, handle: Handle) -> dict:
        def probe() -> bool:
            status = read_json(service.status_file, {})
            if status.get("state") == "failed":
                raise NeverReady(status.get("error") or "its process exited")
            return status.get("state") == "ready"

        def failed(reason: str) -> DataServiceError:
            self.stop(service)
            if reason == "exited":
                reason = "its process exited"
            elif reason.startswith("not ready"):
                return DataServiceError(
                    f"[{service.name}] {service.kind} was {reason}", tail(service.log, 30)
                )
            return DataServiceError(
                f"[{service.name}] {service.kind} could not start: {reason.splitlines()[0]}",
                tail(service.log, 30),
            )

        self.process(service).wait_ready(
            handle, probe, timeout=START_TIMEOUT, failed=failed, clock=self.clock
        )
        return read_json(service.status_file, {})

    def stop(self, service: DataService, grace: float = STOP_GRACE) -> None:
        """Stop the service's server (cleanly, then by force); its data stays."""
        self.process(service).stop(grace)
        status = read_json(service.status_file, {})
        if status.get("state") != "stopped" and service.status_file.exists():
            write_json(service.status_file, {**status, "state": "stopped"})

    def health(self, service: DataService) -> Health:
        """The one check ``status`` and ``info`` report: running, restarting, starting, down."""
        status = self.status(service)
        state = status.get("state")
        if state == "stopped":
            return Health("down", f"{service.kind} is stopped", status)
        where = f"{status.get('host')}:{status.get('port')}"
        if state == "restarting":
            error = f": {status['error']}" if status.get("error") else ""
            detail = f"{service.kind} died; restarting (attempt {status.get('attempt')}{error})"
            return Health("restarting", detail, status)
        if state != "ready":
            return Health(state or "down", f"{service.kind} is {state or 'unknown'}", status)
        if not KINDS[service.kind].ready(status):
            return Health("down", f"{service.kind} does not answer on {where}", status)
        return Health("running", f"{service.kind} on {where}", status)

    def restart(self, service: DataService) -> Running:
        """Stop the server (its data stays), start it again, wait until it is ready."""
        self.stop(service)
        return self.ensure(service)

    def status(self, service: DataService) -> dict:
        """The last status the host reported, with ``state`` "stopped" if it no longer runs."""
        status = read_json(service.status_file, {})
        if self.handle(service) is None:
            status = {**status, "state": "stopped"}
        return status
