"""``restart SVC.N``: restart one instance's programs (or the instance, if it is down);
``restart DB``: stop and start a data service's server, its data kept."""

from __future__ import annotations

import time
import xmlrpc.client

from platform_sim.appfile.buildfile import Service
from platform_sim.apps import locked
from platform_sim.context import Context
from platform_sim.errors import PlatformError, UsageError
from platform_sim.hosts import namespace
from platform_sim.hosts.instance import stored_environment
from platform_sim.release.targets import Ref, current, labels, parse_ref
from platform_sim.services import cluster

RESTART_TIMEOUT = 120.0


def restart(ctx: Context, target: str) -> float:
    """Restart the instance ``target`` names (``SVC.N`` only); return how long it took."""
    ref = parse_ref(target)
    service = current(ctx.paths).service(ref.service)
    if not service.is_code:
        return restart_data(ctx, ref, service)
    if ref.number is None:
        found = current(ctx.paths).instances_of(ref)
        raise UsageError(
            f"restart needs one instance, not a service: write restart {ref.service}.N "
            f"({ref.service} has {labels(found)})"
        )
    current(ctx.paths).instances_of(ref)  # an unknown app, service or instance: say so first
    namespace.check_privileges()
    with locked(ctx.paths):
        instance = current(ctx.paths).instances_of(ref)[0]
        started = time.monotonic()
        handle = ctx.runner.handle(instance)
        if handle is None:
            ctx.printer.step("supervisord is not running: starting the instance", instance.label)
            handle = ctx.runner.start(instance, stored_environment(instance))
        else:
            ctx.printer.step("Restarting every program", instance.label)
            control = instance.control(RESTART_TIMEOUT)
            try:
                control.restart_all()
            except (OSError, xmlrpc.client.Error) as exc:
                raise PlatformError(
                    f"[{instance.label}] restart failed: {control.describe(exc)}"
                ) from None
        ctx.runner.wait_ready(instance, handle)
        return time.monotonic() - started


def restart_data(ctx: Context, ref: Ref, service: Service) -> float:
    """Stop a data service's server (its data stays), start it, wait until it is ready."""
    nodes = cluster.present(service.name, service.type, ctx.paths.service(service.name))
    chosen = [node for node in nodes if node.node == (ref.number or 0)]
    if not chosen:
        names = ", ".join(f"{service.name}.{node.node}" for node in nodes)
        raise UsageError(f"no instance {ref} in {ctx.paths.name!r}: {ref.service} has {names}")
    namespace.check_privileges()
    with locked(ctx.paths):
        folder = chosen[0]
        before = ctx.data.status(folder).get("port")
        started = time.monotonic()
        ctx.printer.step(f"Restarting {service.type}", service.name)
        running = ctx.data.restart(folder)
        if before is not None and running.endpoint.port != int(before):
            ctx.printer.line(
                service.name,
                f"WARNING: port {before} was taken; it now listens on {running.endpoint.port}: "
                f"redeploy (platform_sim -A {ctx.paths.name} deploy latest) to tell the instances",
            )
        return time.monotonic() - started
