"""The collaborators a command works with, built in one place (and replaceable in tests)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from platform_sim.apps import AppPaths
from platform_sim.builder.service import Builder
from platform_sim.hosts import namespace
from platform_sim.hosts.instance import InstanceRunner
from platform_sim.hosts.network import Network, ip_binary
from platform_sim.hosts.processes import ProcessTable
from platform_sim.hosts.router import Router
from platform_sim.output import Printer
from platform_sim.services.provision import DataServices


@dataclass
class Context:
    """One application's state folders and the objects that act on it."""

    paths: AppPaths
    printer: Printer
    table: ProcessTable
    builder: Builder
    data: DataServices
    runner: InstanceRunner
    router: Router
    network: Network | None = None  # None: everything on loopback (tests' fakes)


def make_context(
    paths: AppPaths,
    printer: Printer,
    environ: Mapping[str, str] | None = None,
    python: str = sys.executable,
) -> Context:
    """The real collaborators: processes, builds, data services, instances, router."""
    environ = dict(os.environ if environ is None else environ)
    table = ProcessTable()
    unshare = namespace.unshare_binary()
    ip = ip_binary()
    network = Network(paths.root, ip=ip)
    return Context(
        paths=paths,
        printer=printer,
        table=table,
        builder=Builder(paths.builds, printer, base_env=environ),
        data=DataServices(
            table, python=python, unshare=unshare, base_env=environ, network=network
        ),
        runner=InstanceRunner(table, printer, python=python, unshare=unshare, ip=ip),
        router=Router(
            paths.router, paths.name, table, unshare=unshare, network=network, python=python
        ),
        network=network,
    )
