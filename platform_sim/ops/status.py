"""``status [SVC[.N]]`` (up or down, per instance) and ``url [SVC]``."""

from __future__ import annotations

from dataclasses import dataclass, field

from platform_sim.address import host_port, http_url
from platform_sim.context import Context
from platform_sim.errors import UsageError
from platform_sim.hosts.instance import Instance, answers_http
from platform_sim.release.targets import Deployed, current, parse_ref
from platform_sim.render import supervisor
from platform_sim.services import cluster


@dataclass(frozen=True)
class InstanceStatus:
    """One instance: up or down and why; its state word and programs (what ``info`` shows)."""

    label: str
    up: bool
    detail: str
    state: str = ""
    programs: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.label}: {'up' if self.up else 'down'} ({self.detail})"


def code_status(ctx: Context, instance: Instance) -> InstanceStatus:
    """Up when supervisord runs every program and, for a web instance, nginx answers.

    The state word: running, FATAL (a program gave up starting; the watchdog starts it again),
    restarting (a program is starting or backing off), down, or stopped (no supervisord).
    """
    if ctx.runner.handle(instance) is None:
        return InstanceStatus(instance.label, False, "supervisord is not running", "stopped")
    control = instance.control(3)
    try:
        states = control.states()
    except Exception:  # noqa: BLE001 - a busy or dying supervisord is "down", whatever the error
        return InstanceStatus(instance.label, False, "supervisord does not answer", "down")
    programs = {
        name: states[name]["statename"]
        for name in sorted(states)
        if name not in supervisor.PLATFORM_PROGRAMS
    }
    detail = ", ".join(f"{name} {state}" for name, state in programs.items()) or "no programs"
    up = bool(programs) and all(state == supervisor.RUNNING for state in programs.values())
    if (
        up
        and instance.http_port is not None
        and not answers_http(instance.http_port, instance.address)
    ):
        where = host_port(instance.http_port, instance.address)
        up, detail = False, f"{detail}; nginx does not answer on {where}"
    return InstanceStatus(instance.label, up, detail, _state(up, programs), programs)


def _state(up: bool, programs: dict[str, str]) -> str:
    if up:
        return "running"
    if "FATAL" in programs.values():
        return "FATAL"
    if {"BACKOFF", "STARTING"} & set(programs.values()):
        return "restarting"
    return "down"


def data_status(ctx: Context, name: str, kind: str) -> list[InstanceStatus]:
    """Up when the data service's host runs and its server accepts connections (each node of
    a cluster)."""
    found = []
    for node in cluster.present(name, kind, ctx.paths.service(name)):
        health = ctx.data.health(node)
        found.append(InstanceStatus(f"{name}.{node.node}", health.up, health.detail, health.state))
    return found


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
        found = data_status(ctx, service.name, service.type)
        if ref.number is None:
            return found
        chosen = [line for line in found if line.label == f"{service.name}.{ref.number}"]
        if not chosen:
            names = ", ".join(line.label for line in found)
            raise UsageError(f"no instance {ref} in {ctx.paths.name!r}: {ref.service} has {names}")
        return chosen
    return [code_status(ctx, instance) for instance in deployed.instances_of(ref)]


def _service(ctx: Context, deployed: Deployed, name: str) -> list[InstanceStatus]:
    service = deployed.buildfile.services[name]
    if not service.is_code:
        return data_status(ctx, name, service.type)
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
