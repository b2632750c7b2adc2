"""``info``: services, instances, URLs, ports, credentials, variables, revisions, as a dict
(JSON for scripts; ``infotext`` renders it for people)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from platform_sim.address import http_url
from platform_sim.appfile import buildfile
from platform_sim.appfile.environment import Endpoint, data_service_variables
from platform_sim.apps import AppRecord, existing
from platform_sim.context import Context
from platform_sim.errors import UsageError
from platform_sim.hosts.instance import Instance
from platform_sim.kinds.base import DOTCLOUD_TAGS
from platform_sim.kinds.registry import KINDS
from platform_sim.ops.status import code_status
from platform_sim.release.push import ADMIN_PASSWORD_FILE
from platform_sim.release.revisions import Revision, stored
from platform_sim.services import addons, cluster
from platform_sim.services.provision import DataService


def _code_instance(ctx: Context, instance: Instance) -> dict:
    checked = code_status(ctx, instance)
    data = {
        "id": instance.number,
        "home": str(instance.home),
        "data": str(instance.data),
        "environment": str(instance.home / "environment.json"),
        "logs": str(instance.log_dir),
        "status": checked.state,
        "programs": checked.programs,
        "ports": dict(instance.ports),
        "address": instance.address,
        "supervisor": http_url(instance.control_port, instance.address),
    }
    if instance.http_port is not None:
        data["port"] = instance.http_port
        data["url"] = instance.url
    admin = instance.data / ADMIN_PASSWORD_FILE
    if admin.is_file():
        data["admin_password_file"] = str(admin)
    return data


def _data_instance(ctx: Context, service: DataService, service_type: str) -> dict:
    health = ctx.data.health(service)
    status = health.status
    data = {
        "id": 0,
        "home": str(service.folder),
        "data": str(service.data),
        "status": health.state,
        "logs": str(service.log),
    }
    if "port" in status:
        endpoint = Endpoint(
            status["host"], int(status["port"]), status["login"], status["password"]
        )
        data.update(
            host=endpoint.host, port=endpoint.port, login=endpoint.login, password=endpoint.password
        )
        if service_type in DOTCLOUD_TAGS:
            fake = buildfile.Service(name=service.name, type=service_type)
            variables = data_service_variables(fake, endpoint)
            data["url"] = next(value for key, value in variables.items() if key.endswith("_URL"))
        if status.get("vhost"):
            data["vhost"] = status["vhost"]
        if service.kind in KINDS and KINDS[service.kind].app_database:
            data["database"] = KINDS[service.kind].app_database  # the app's own
    return data


def describe(ctx: Context, service_name: str | None = None) -> dict:
    """Everything known about the application (or one of its services) as a JSON-able dict."""
    record = existing(ctx.paths)
    current = record.current or {}
    instances = [Instance.from_json(data) for data in current.get("instances", [])]
    parsed = _current_buildfile(ctx, record)
    services: dict[str, dict] = {}
    for name, service in parsed.services.items() if parsed else []:
        entry: dict = {"type": service.type, "instances": []}
        if service.is_code:
            entry["instances"] = [_code_instance(ctx, i) for i in instances if i.service == name]
            if name in record.router_ports:
                entry["url"] = http_url(record.router_ports[name], ctx.router.address)
        else:
            nodes = cluster.present(name, service.type, ctx.paths.service(name))
            entry["instances"] = [_data_instance(ctx, node, service.type) for node in nodes]
        services[name] = entry
    if service_name is not None:
        if service_name not in services:
            raise UsageError(
                f"no service {service_name!r} in {ctx.paths.name!r}: "
                f"it has {', '.join(services) or 'none yet'}"
            )
        services = {service_name: services[service_name]}
    urls = {name: entry["url"] for name, entry in services.items() if "url" in entry}
    return {
        "app": ctx.paths.name,
        "state": str(ctx.paths.root),
        "url": urls.get("www") or next(iter(urls.values()), None),
        "revision": current.get("revision"),
        "deploy": current.get("generation"),
        "router": {
            "port": record.router_ports,
            "running": ctx.router.handle() is not None,
            "address": ctx.router.host_address,
        },
        "variables": dict(record.variables),
        "scale": dict(record.scale),
        "revisions": [_revision(revision) for revision in stored(record)],
        "addons": _addons(ctx, record),
        "services": services,
    }


def _revision(revision: Revision) -> dict:
    data = asdict(revision)
    return {"revision": data.pop("number"), **data}


def _addons(ctx: Context, record: AppRecord) -> dict:
    result = {}
    for name, settings in record.addons.items():
        service = addons.data_service(ctx.paths, name, settings["login"])
        result[name] = _data_instance(ctx, service, addons.addon_kind(name).kind)
    return result


def _current_buildfile(ctx: Context, record: AppRecord) -> buildfile.BuildFile | None:
    current = record.current or {}
    revision = current.get("revision") or record.last_revision
    if not revision:
        return None
    try:
        return buildfile.load(Path(ctx.paths.revision(revision)) / "code")
    except Exception:  # noqa: BLE001 - a revision whose upload failed has no usable build file
        return None


def as_json(info: dict) -> str:
    """``info --json`` for scripts."""
    return json.dumps(info, indent=2, sort_keys=True)
