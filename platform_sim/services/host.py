"""Keep one data service running: ``python -m platform_sim.services.host`` inside its namespaces.

Started by platform_sim in private mount and PID namespaces where a tmpfs covers /home/dotcloud
and the service's data folder is bind-mounted at /home/dotcloud/data (so PostgreSQL's account
can reach it although the state folder is owner-only). It starts the server through
``backing_services``, reports readiness and credentials in a status file, restarts the server
with backoff whenever it dies (data and credentials kept), and stops it on SIGTERM. When it
exits, the kernel ends whatever is left in its PID namespace.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from backing_services import ServiceError
from platform_sim.files import read_json, write_json
from platform_sim.hosts.keeper import STABLE_AFTER, backoff
from platform_sim.hosts.processes import reap_orphans
from platform_sim.kinds import rabbitmq_cluster
from platform_sim.kinds.registry import KINDS

WATCH_INTERVAL = 0.5


def make_service(kind: str, data: Path, user: str, address: str = "", cluster=None, vhost=""):  # noqa: ANN001, ANN201
    """The server for ``kind`` from the provider backing_services chooses, kept in ``data``,
    listening on ``address`` (its host's own; loopback when empty); ``cluster``: one node of
    a RabbitMQ cluster; ``vhost``: the virtual host its first boot makes for ``user``."""
    if cluster is not None:
        return KINDS[kind].server(data, user, address, cluster)
    if vhost:
        return KINDS[kind].server(data, user, address, vhost=vhost)
    return KINDS[kind].server(data, user, address)


def cluster_join(options: argparse.Namespace):  # noqa: ANN201 - a ClusterJoin or None
    """The cluster this host's node belongs to (``--cluster SERVICE:INDEX:SIZE``), if any."""
    if not getattr(options, "cluster", ""):
        return None
    service, index, size = options.cluster.rsplit(":", 2)
    cookie = options.cookie_file.read_text().strip()
    login = None
    seed = read_json(options.seed_status, {}) if options.seed_status is not None else {}
    if seed.get("login") and seed.get("password"):  # a joining node: the seed's users are the
        login = (seed["login"], seed["password"])  # cluster's (a node that joined keeps them)
    return rabbitmq_cluster.join(service, int(index), int(size), cookie, login)


class Keeper:
    """Starts the server, then restarts it with backoff whenever its process has died.

    The data folder and the credentials stored with it are kept, and the stored port is reused
    when free, so the instances' ``DOTCLOUD_*`` variables stay right without a redeploy.
    """

    def __init__(
        self,
        options: argparse.Namespace,
        stop: threading.Event,
        make: Callable[..., object] = make_service,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.stop = stop
        self.make = make
        self.clock = clock
        self.service = None
        self.attempt = 0
        self.up_since = 0.0
        self.report: dict = {}

    def start(self) -> None:
        """Start the server (a new object each time: nothing of a dead one is reused)."""
        cluster = cluster_join(self.options)
        extra = (cluster,) if cluster is not None else ()
        # a lone server's first boot makes its virtual host: add_vhost below runs no tool
        own = {"vhost": self.options.vhost} if self.options.vhost and cluster is None else {}
        service = self.make(
            self.options.kind, self.options.data, self.options.user, self.options.address,
            *extra, **own,
        )
        self.service = service
        service.start()
        vhost = "/"
        if self.options.vhost:
            service.add_vhost(self.options.vhost)
            vhost = self.options.vhost
        self.report = {
            "host": service.host,
            "port": service.port,
            "login": service.user,
            "password": service.password,
            "vhost": vhost if KINDS[self.options.kind].vhosts else "",
            "provider": type(service).__name__,
        }
        if cluster is not None:
            self.report["node"] = cluster.node
        self.up_since = self.clock()
        write_json(self.options.status, {"state": "ready", **self.report})
        say(f"{self.options.kind} ready on {service.host}:{service.port}")

    def delay(self) -> float:
        """Seconds before the next restart (the platform's one backoff)."""
        return backoff(self.attempt)

    def watch(self) -> None:
        """Until SIGTERM: restart the server whenever it has died; stop it at the end."""
        while not self.stop.wait(WATCH_INTERVAL):
            reap_orphans()
            if self.service is not None and self.service.alive():
                if self.clock() - self.up_since > STABLE_AFTER:
                    self.attempt = 0
                continue
            self.restart()
        if self.service is not None:
            self.service.stop()
        write_json(self.options.status, {"state": "stopped", **self.report})

    def restart(self) -> None:
        """One restart attempt, after the backoff delay; the status says "restarting" meanwhile."""
        delay = self.delay()
        self.attempt += 1
        say(
            f"{self.options.kind} server is not running: restarting it in {delay:g} s "
            f"(attempt {self.attempt})"
        )
        status = {**self.report, "state": "restarting", "attempt": self.attempt}
        write_json(self.options.status, status)
        if self.service is not None:
            self.service.stop()  # whatever is left of the dead server (its epmd, its group…)
            reap_orphans()
        if self.stop.wait(delay):
            return
        try:
            self.start()
        except (ServiceError, OSError, ValueError) as exc:
            first = (str(exc) or type(exc).__name__).splitlines()[0]
            say(f"{self.options.kind} restart failed: {first}")
            write_json(self.options.status, {**status, "error": first})
            if self.service is not None:
                self.service.stop()


def say(text: str) -> None:
    """One line of the host's log (``logs db`` shows it)."""
    print(f"datahost: {time.strftime('%H:%M:%S')} {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Start the service, report it, keep it running until SIGTERM, stop it; an exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m platform_sim.services.host", description=__doc__
    )
    parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--user", default="root")
    parser.add_argument("--vhost", default="")
    parser.add_argument("--address", default="")
    parser.add_argument("--cluster", default="", help="SERVICE:INDEX:SIZE of a RabbitMQ node")
    parser.add_argument("--cookie-file", type=Path)
    parser.add_argument("--seed-status", type=Path, help="node 0's status (its login)")
    options = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    write_json(options.status, {"state": "starting"})
    keeper = Keeper(options, stop)
    try:
        keeper.start()
    except (ServiceError, OSError, ValueError) as exc:
        write_json(options.status, {"state": "failed", "error": str(exc)})
        print(f"datahost: {exc}", file=sys.stderr, flush=True)
        if keeper.service is not None:
            keeper.service.stop()
        return 1
    keeper.watch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
