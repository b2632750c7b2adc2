"""Keep one data service running: ``python -m platform_sim.datahost`` inside its namespaces.

Started by platform_sim in private mount and PID namespaces where a tmpfs covers /home/dotcloud
and the service's data folder is bind-mounted at /home/dotcloud/data (so PostgreSQL's account
can reach it although the state folder is owner-only). It starts the server through
``backing_services``, reports readiness and credentials in a status file, and stops the server
on SIGTERM. When it exits, the kernel ends whatever is left in its PID namespace.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .files import write_json
from .kinds import KINDS


def make_service(kind: str, data: Path, user: str):  # noqa: ANN201 - a backing_services Service
    """The server for ``kind`` from the provider backing_services chooses, kept in ``data``."""
    return KINDS[kind].server(data, user)


def main(argv: list[str] | None = None) -> int:
    """Start the service, report it, wait for SIGTERM, stop it; return an exit status."""
    parser = argparse.ArgumentParser(prog="python -m platform_sim.datahost", description=__doc__)
    parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--user", default="root")
    parser.add_argument("--vhost", default="")
    options = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    write_json(options.status, {"state": "starting"})
    from backing_services import ServiceError

    try:
        service = make_service(options.kind, options.data, options.user)
        service.start()
        vhost = "/"
        if options.vhost:
            service.add_vhost(options.vhost)
            vhost = options.vhost
    except (ServiceError, OSError, ValueError) as exc:
        write_json(options.status, {"state": "failed", "error": str(exc)})
        print(f"datahost: {exc}", file=sys.stderr, flush=True)
        return 1
    write_json(
        options.status,
        {
            "state": "ready",
            "host": service.host,
            "port": service.port,
            "login": service.user,
            "password": service.password,
            "vhost": vhost if KINDS[options.kind].vhosts else "",
            "provider": type(service).__name__,
        },
    )
    print(f"datahost: {options.kind} ready on {service.host}:{service.port}", flush=True)
    while not stop.wait(1):
        pass
    service.stop()
    write_json(options.status, {"state": "stopped"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
