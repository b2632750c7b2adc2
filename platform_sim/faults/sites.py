"""Where faults land in a deployed app: its programs' and servers' pids, found through the
platform's own records (``pid.json`` of each namespace, supervisord's control channel, the pid
namespace's ``NSpid``), and its hosts' namespaces and addresses (``network.json``)."""

from __future__ import annotations

import contextlib
import xmlrpc.client
from pathlib import Path

from platform_sim.faults.inject import Endpoint, FaultError
from platform_sim.files import read_json
from platform_sim.hosts import sockets, watchdog
from platform_sim.hosts.processes import children, command_name, descendants
from platform_sim.kinds import registry


def _parent(pid: int) -> int:
    return int(sockets.status_field(pid, "PPid"))


def recorded_root(pid_file: Path) -> int:
    """The pid a platform ``pid.json`` records (the namespace's ``unshare``)."""
    record = read_json(pid_file)
    if not record:
        raise FaultError(f"{pid_file} records no process: is the app running?")
    return int(record["pid"])


def host_pid(root: int, inside: int) -> int:
    """The pid this machine sees for the process ``inside`` names in ``root``'s PID namespace."""
    pid = sockets.host_pid(root, inside)
    if pid is not None:
        return pid
    raise FaultError(f"no process {inside} in the namespace of {root}")


class Instance:
    """One code-service instance, from its home folder (``info --json``'s ``home``)."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.control = xmlrpc.client.ServerProxy(
            watchdog.control_url(str(self.home / "platform" / "supervisord.conf"))
        ).supervisor

    def root(self) -> int:
        """The instance's ``unshare`` (its pid record)."""
        return recorded_root(self.home / "platform" / "pid.json")

    def state(self, program: str) -> str:
        """supervisord's state of ``program`` (RUNNING, STARTING, BACKOFF, FATAL…)."""
        return self.control.getProcessInfo(program)["statename"]

    def program_pid(self, program: str) -> int:
        """The host pid of ``program``'s main process (FaultError when it does not run)."""
        inside = self.control.getProcessInfo(program)["pid"]
        if not inside:
            raise FaultError(f"{program} does not run in {self.home.name}")
        return host_pid(self.root(), inside)

    def pool_children(self, program: str) -> list[int]:
        """The direct children of ``program``'s main process (Celery's pool processes)."""
        return children(self.program_pid(program))


def server_pids(folder: Path, kind: str) -> list[int]:
    """Every process of a data service's server (under its host's pid record)."""
    command = registry.kind(kind).server_command
    root = recorded_root(folder / "pid.json")
    return [pid for pid in descendants(root) if command_name(pid) == command]


def server_main(folder: Path, kind: str) -> int:
    """The server's first process (the postmaster; ``beam.smp`` of RabbitMQ)."""
    pids = server_pids(folder, kind)
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            if _parent(pid) not in pids:
                return pid
    raise FaultError(f"no {kind} server runs under {folder}")


def endpoint(app_root: Path, key: str) -> Endpoint:
    """A host of the app's network by key (``services-db``, ``d3-workers-0``)."""
    hosts = (read_json(app_root / "network.json", {}) or {}).get("hosts", {})
    if key not in hosts:
        raise FaultError(f"no host {key} in the network of {app_root.name}: is it deployed?")
    return Endpoint(hosts[key]["netns"], hosts[key]["address"])


def instance_key(home: Path) -> str:
    """The network key of the instance at ``home`` (``deploys/<G>/<svc>.<N>``)."""
    service, number = home.name.rsplit(".", 1)
    return f"d{home.parent.name}-{service}-{number}"
