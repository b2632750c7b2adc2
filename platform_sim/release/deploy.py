"""Deploy a new generation of instances beside the running one, switch the router to it, and
stop the old generation; on any failure, stop the new one instead."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from backing_services.ports import free_ports, port_is_free
from platform_sim.address import host_port, http_url
from platform_sim.appfile.buildfile import BuildFile, Service
from platform_sim.appfile.environment import Topology, instance_environment, process_environment
from platform_sim.apps import AppRecord
from platform_sim.builder.service import BuildResult
from platform_sim.context import Context
from platform_sim.hosts import namespace
from platform_sim.hosts.instance import Instance, lay_out
from platform_sim.release.prepare import Prepared, run_parallel, timed
from platform_sim.services import addons


def router_ports(ctx: Context, record: AppRecord, parsed: BuildFile) -> dict[str, int]:
    """The public port of each web service: kept across pushes while it can be."""
    router_running = ctx.router.handle() is not None
    web = [service.name for service in parsed.code_services() if service.is_web]
    needed = [
        name
        for name in web
        if name not in record.router_ports
        or (not router_running and not port_is_free(record.router_ports[name]))
    ]
    for name, port in zip(needed, free_ports(len(needed)), strict=True):
        record.router_ports[name] = port
    return {name: record.router_ports[name] for name in web}


def new_instances(
    ctx: Context, parsed: BuildFile, generation: int, scale: Mapping[str, int] | None = None
) -> list[Instance]:
    """The instances of a new generation, each with fresh ports (old and new run side by side)."""
    specs = []
    for service in parsed.code_services():
        for number in range((scale or {}).get(service.name, service.instances)):
            specs.append((service, number))
    wanted = sum(
        2 + len(service.ports) if service.is_web else 1 + len(service.ports) for service, _ in specs
    )
    ports = iter(free_ports(wanted))
    instances = []
    for service, number in specs:
        host = _host(ctx, generation, service.name, number)
        control = next(ports)
        http = next(ports) if service.is_web else None
        custom = {name: next(ports) for name in service.ports}
        instances.append(
            Instance(
                app=ctx.paths.name,
                service=service.name,
                type=service.type,
                number=number,
                generation=generation,
                home=ctx.paths.home(generation, service.name, number),
                data=ctx.paths.instance_data(service.name, number),
                control_port=control,
                control_password=secrets.token_urlsafe(18),
                http_port=http,
                ports=custom,
                **host,
            )
        )
    return instances


def host_key(generation: int, service: str, number: int) -> str:
    """The key of an instance's host in the app's network."""
    return f"d{generation}-{service}-{number}"


def _host(ctx: Context, generation: int, service: str, number: int) -> dict:
    """The instance's own host (address and namespace); loopback without a network."""
    if ctx.network is None:
        return {}
    name = namespace.host_name(ctx.paths.name, service, number, f"d{generation}")
    host = ctx.network.host(host_key(generation, service, number), [f"{service}-{number}", name])
    return {"address": host.address, "netns": host.netns}


def topology(
    ctx: Context,
    record: AppRecord,
    parsed: BuildFile,
    prepared: Prepared,
    instances: list[Instance],
    urls: Mapping[str, str],
) -> Topology:
    """Everything the instances' environments are computed from."""
    ports = {}
    for instance in instances:
        own = dict(instance.ports)
        if instance.http_port is not None:
            own.setdefault("www", instance.http_port)
        ports[(instance.service, instance.number)] = own
    variables = {**addons.all_variables(prepared.addon_variables), **record.variables}
    endpoints = {name: running.endpoint for name, running in prepared.endpoints.items()}
    addresses = {(i.service, i.number): i.address for i in instances}
    return Topology(ctx.paths.name, parsed, endpoints, dict(urls), ports, variables, addresses)


def install_instance(
    ctx: Context,
    instance: Instance,
    service: Service,
    build: BuildResult,
    topo: Topology,
    timings: dict[str, float],
    *,
    start: bool = True,
) -> None:
    """Lay out the home, run postinstall, check the supervisor config, start, wait until ready."""
    label = instance.label
    variables = instance_environment(topo, instance.service, instance.number)
    env = process_environment(variables)
    ctx.printer.step(f"Deploying revision into {instance.home}", label)
    timed(timings, f"deploy:{label}:layout", lambda: lay_out(instance, service, build, variables))
    timed(
        timings,
        f"deploy:{label}:postinstall",
        lambda: ctx.runner.postinstall(instance, service, env),
    )
    timed(timings, f"deploy:{label}:check", lambda: ctx.runner.check(instance, env))
    if not start:
        return
    ctx.printer.step("Starting supervisord", label)
    handle = ctx.runner.start(instance, env)
    seconds = timed(
        timings, f"deploy:{label}:ready", lambda: ctx.runner.wait_ready(instance, handle)
    )
    what = (
        f"answers on {host_port(instance.http_port, instance.address)}"
        if instance.http_port
        else "programs running"
    )
    ctx.printer.line(label, f"Instance ready: {what} ({seconds:.1f} s)")


def stop_instances(ctx: Context, instances: list[Instance]) -> None:
    """Stop instances in parallel (supervisord stops its programs; the deadline kills the rest)."""
    if not instances:
        return
    with ThreadPoolExecutor(max_workers=len(instances)) as pool:
        list(pool.map(ctx.runner.stop, instances))


def discard_generation(ctx: Context, generation: int, instances: list[Instance]) -> None:
    """Stop a generation's instances (those listed and any found on disk) and remove its homes."""
    folder = ctx.paths.deploy(generation)
    known = {instance.home for instance in instances}
    stray = []
    if folder.is_dir():
        for home in folder.iterdir():
            if home not in known and (home / "platform" / "pid.json").exists():
                stray.append(
                    Instance(
                        app=ctx.paths.name,
                        service="",
                        type="",
                        number=0,
                        generation=generation,
                        home=home,
                        data=home / "data",
                        control_port=0,
                        control_password="",
                    )
                )
    stop_instances(ctx, [*instances, *stray])
    if ctx.network is not None:
        ctx.network.remove_prefix(f"d{generation}-")
    shutil.rmtree(folder, ignore_errors=True)


def deploy_generation(
    ctx: Context,
    record: AppRecord,
    parsed: BuildFile,
    revision: int,
    prepared: Prepared,
    timings: dict[str, float],
) -> tuple[int, dict[str, str], list[Instance]]:
    """Start a new generation beside the current one; switch the router; stop the old one."""
    record.last_generation += 1
    generation = record.last_generation
    ports = router_ports(ctx, record, parsed)
    record.save(ctx.paths)
    urls = {name: http_url(port, ctx.router.address) for name, port in ports.items()}
    instances = new_instances(ctx, parsed, generation, record.scale)
    topo = topology(ctx, record, parsed, prepared, instances, urls)
    try:
        jobs = {
            instance.label: _installer(
                ctx,
                instance,
                parsed.services[instance.service],
                prepared.builds[instance.service],
                topo,
                timings,
            )
            for instance in instances
        }
        run_parallel(jobs, {})
        upstreams = {
            name: (port, [i.http_port for i in instances if i.service == name])
            for name, port in ports.items()
        }
        hosts = {i.http_port: i.address for i in instances if i.http_port}
        if upstreams:
            ctx.printer.step(f"Switching the router to deploy {generation}")
            timed(timings, "router", lambda: ctx.router.switch(generation, upstreams, hosts))
    except BaseException:
        ctx.printer.say(
            f"-----> Deploy {generation} failed: stopping its instances; "
            "the previous deploy keeps serving"
        )
        discard_generation(ctx, generation, instances)
        raise
    previous = record.current
    record.current = {
        "generation": generation,
        "revision": revision,
        "instances": [instance.to_json() for instance in instances],
    }
    record.revisions[str(revision)]["builds"] = {
        name: {"env": str(build.env), "code": str(build.code), "key": build.key}
        for name, build in prepared.builds.items()
    }
    record.save(ctx.paths)
    if previous:
        ctx.printer.step(f"Stopping deploy {previous['generation']}")
        old = [Instance.from_json(data) for data in previous["instances"]]
        timed(
            timings, "stop_previous", lambda: discard_generation(ctx, previous["generation"], old)
        )
    return generation, urls, instances


def _installer(ctx, instance, service, build, topo, timings) -> Callable[[], None]:  # noqa: ANN001
    return lambda: install_instance(ctx, instance, service, build, topo, timings)
