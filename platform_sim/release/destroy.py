"""``destroy``: stop every process of an app (found by its pid files), then remove its state;
``destroy SVC``: stop one service and remove it with its data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from platform_sim.apps import AppRecord, existing, locked
from platform_sim.context import Context
from platform_sim.files import read_json
from platform_sim.hosts.instance import Instance
from platform_sim.hosts.processes import Handle
from platform_sim.release.deploy import host_key, stop_instances
from platform_sim.release.targets import current, labels
from platform_sim.services import cluster

STOP_GRACE = 75.0


RECORD_PLACES = (
    "router/forwarder.json",
    "router/pid.json",
    "deploys/*/*/platform/pid.json",
    "services/*/pid.json",
    "services/*/node-*/pid.json",  # a RabbitMQ cluster's nodes beyond node 0
    "addons/*/pid.json",
)


def process_files(root: Path) -> list[Path]:
    """The pid files platform_sim writes: router, instances, data services, add-ons (only)."""
    found = {path for place in RECORD_PLACES for path in root.glob(place) if path.is_file()}
    return sorted(found, key=lambda path: (_order(path.relative_to(root)), path))


def recorded_handle(pid_file: Path) -> Handle | None:
    """The process a pid file records; None if it is not a well-formed record of ours."""
    try:
        data = read_json(pid_file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or set(data) != {"pid", "started"}:
        return None
    pid, started = data["pid"], data["started"]
    if not all(type(value) is int for value in (pid, started)) or pid <= 1 or started < 0:
        return None
    return Handle(pid, started)


def is_namespace_leader(pid: int) -> bool:
    """Whether ``pid`` runs ``unshare`` (every process platform_sim records does)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "unshare"
    except OSError:
        return False


def stop_everything(ctx: Context) -> int:
    """Stop every process recorded under the application's state; return how many ran."""
    stopped = 0
    for pid_file in process_files(ctx.paths.root):
        handle = recorded_handle(pid_file)
        if handle is None:
            where = pid_file.relative_to(ctx.paths.root)
            ctx.printer.say(f"warning: {where} is not a process record of platform_sim; skipped")
            continue
        if ctx.table.alive(handle) and is_namespace_leader(handle.pid):
            owner = pid_file.parent
            owner = owner.parent if owner.name == "platform" else owner
            ctx.printer.say(f"-----> Stopping {owner.relative_to(ctx.paths.root)}")
            ctx.table.stop_namespace(handle, STOP_GRACE)
            stopped += 1
        pid_file.unlink(missing_ok=True)
    if ctx.network is not None:
        ctx.network.destroy()  # namespaces, links, bridge, files: after every process is gone
    return stopped


def _order(relative: Path) -> int:
    """Router first (no new requests), then instances, then data services last."""
    return {"router": 0, "deploys": 1}.get(relative.parts[0], 2)


def destroy(ctx: Context) -> int:
    """Stop the application's processes and delete its state; return how many processes ran."""
    with locked(ctx.paths):
        stopped = stop_everything(ctx)
        shutil.rmtree(ctx.paths.root)
    return stopped


def destroy_service(ctx: Context, name: str) -> str:
    """Stop one service and delete it with its data; return what was removed.

    The build file keeps naming it: the next push (or redeploy) creates it again, empty.
    """
    deployed = current(ctx.paths)
    service = deployed.service(name)
    with locked(ctx.paths):
        record = existing(ctx.paths)
        if not service.is_code:
            nodes = cluster.present(name, service.type, ctx.paths.service(name))
            ctx.printer.step(f"Stopping {service.type} and deleting its data", name)
            for node in reversed(nodes):
                ctx.data.stop(node)
            if ctx.network is not None:
                ctx.network.remove([node.host_key for node in nodes])
            shutil.rmtree(nodes[0].folder, ignore_errors=True)
            return f"{name} ({service.type}) and its data"
        instances = [Instance.from_json(data) for data in record.current["instances"]]
        gone = [i for i in instances if i.service == name]
        kept = [i for i in instances if i.service != name]
        if service.is_web and name in record.router_ports:
            _route_without(ctx, record, kept, name)
        ctx.printer.step(f"Stopping {labels(gone)}", name)
        stop_instances(ctx, gone)
        if ctx.network is not None:
            ctx.network.remove([host_key(i.generation, i.service, i.number) for i in gone])
        for instance in gone:
            shutil.rmtree(instance.home, ignore_errors=True)
            shutil.rmtree(instance.data, ignore_errors=True)
        record.current["instances"] = [i.to_json() for i in kept]
        record.scale.pop(name, None)
        record.save(ctx.paths)
        return f"{name} ({service.type}): {labels(gone)} and their data"


def _route_without(ctx: Context, record: AppRecord, kept: list[Instance], name: str) -> None:
    """Take a web service out of the router (stopped when no web service is left)."""
    del record.router_ports[name]
    upstreams = {
        web: (port, [i.http_port for i in kept if i.service == web])
        for web, port in record.router_ports.items()
    }
    upstreams = {web: entry for web, entry in upstreams.items() if entry[1]}
    hosts = {i.http_port: i.address for i in kept if i.http_port}
    if upstreams:
        ctx.router.switch(int(record.current["generation"]), upstreams, hosts)
    else:
        ctx.router.stop()
