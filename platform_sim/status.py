"""``status [SVC[.N]]`` (up or down, per instance) and ``url [SVC]``."""

from __future__ import annotations

from dataclasses import dataclass

from . import supervisor
from .address import host_port, http_url
from .context import Context
from .dataservices import DataService
from .errors import UsageError
from .instance import Instance, answers_http
from .kinds import answers
from .targets import Deployed, current, parse_ref


@dataclass(frozen=True)
class InstanceStatus:
    """One instance: up or down, and why."""

    label: str
    up: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.label}: {'up' if self.up else 'down'} ({self.detail})"


def code_status(ctx: Context, instance: Instance) -> InstanceStatus:
    """Up when supervisord runs every program and, for a web instance, nginx answers."""
    if ctx.runner.handle(instance) is None:
        return InstanceStatus(instance.label, False, "supervisord is not running")
    control = instance.control(3)
    try:
        states = control.states()
    except Exception:  # noqa: BLE001 - a busy or dying supervisord is "down", whatever the error
        return InstanceStatus(instance.label, False, "supervisord does not answer")
    names = sorted(states)
    detail = ", ".join(f"{name} {states[name]['statename']}" for name in names) or "no programs"
    up = bool(states) and all(states[n]["statename"] == supervisor.RUNNING for n in names)
    if (
        up
        and instance.http_port is not None
        and not answers_http(instance.http_port, instance.address)
    ):
        where = host_port(instance.http_port, instance.address)
        up, detail = False, f"{detail}; nginx does not answer on {where}"
    return InstanceStatus(instance.label, up, detail)


def data_status(ctx: Context, name: str, kind: str) -> InstanceStatus:
    """Up when the data service's host runs and its server accepts connections."""
    state = ctx.data.status(DataService(name, kind, ctx.paths.service(name)))
    if state.get("state") != "ready":
        return InstanceStatus(f"{name}.0", False, f"{kind} is stopped")
    address = f"{state['host']}:{state['port']}"
    if not answers(state["host"], state["port"]):
        return InstanceStatus(f"{name}.0", False, f"{kind} does not answer on {address}")
    return InstanceStatus(f"{name}.0", True, f"{kind} on {address}")


def status(ctx: Context, target: str | None = None) -> list[InstanceStatus]:
    """The status of every instance of the app, of one service, or of one instance."""
    deployed = current(ctx.paths)
    if target is None:
        return [
            line for name in deployed.buildfile.services for line in _service(ctx, deployed, name)
        ]
    ref = parse_ref(target)
    service = deployed.service(ref.service)
    if not service.is_code:
        if ref.number not in (None, 0):
            raise UsageError(
                f"no instance {ref} in {ctx.paths.name!r}: {ref.service} has {ref.service}.0"
            )
        return [data_status(ctx, service.name, service.type)]
    return [code_status(ctx, instance) for instance in deployed.instances_of(ref)]


def _service(ctx: Context, deployed: Deployed, name: str) -> list[InstanceStatus]:
    service = deployed.buildfile.services[name]
    if not service.is_code:
        return [data_status(ctx, name, service.type)]
    return [code_status(ctx, i) for i in deployed.instances if i.service == name]


def urls(ctx: Context, service: str | None = None) -> dict[str, str]:
    """The HTTP URL of each web service (the router's), or of the one named."""
    deployed = current(ctx.paths)
    web = {
        name: http_url(port, ctx.router.address)
        for name, port in deployed.record.router_ports.items()
        if name in deployed.buildfile.services and deployed.buildfile.services[name].is_web
    }
    if service is None:
        return web
    found = deployed.service(service)
    if service not in web:
        raise UsageError(
            f"{service} is a {found.type} service: it has no HTTP URL "
            f"(web services: {', '.join(web) or 'none'})"
        )
    return {service: web[service]}
