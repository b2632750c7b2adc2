"""The environment of every instance (§2 of platform.md): variables, layering and the files."""

from __future__ import annotations

import json
import os
import pwd
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import yaml

from platform_sim.address import LOOPBACK
from platform_sim.appfile.buildfile import BuildFile, Service
from platform_sim.errors import UsageError
from platform_sim.kinds import rabbitmq_cluster
from platform_sim.kinds.base import DOTCLOUD_TAGS

ENVIRONMENT_NAME = "default"
HOME_INSIDE = "/home/dotcloud"
PORT_SCHEMES = {"http": "http", "tcp": "tcp", "udp": "udp"}
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_PREFIX = "DOTCLOUD_"
SSH_PORT = "0"  # no SSH server in the simulation: the variables exist, nothing listens
# How many proxies in front of the app append to X-Forwarded-For (the app reads it to find the
# client's address). Here: the front router, then the instance's nginx. An application variable
# may raise it (one more per extra front end, such as a TLS terminator before the router).
TRUSTED_PROXIES_VARIABLE = "TRUSTED_PROXIES"
PLATFORM_PROXIES = 2


@dataclass(frozen=True)
class Endpoint:
    """How to reach a data service: address, generated credentials, the app's database."""

    host: str
    port: int
    login: str = ""
    password: str = ""
    database: str = ""  # the one the login owns (PostgreSQL), "" when the app chooses
    others: tuple[tuple[str, int], ...] = ()  # a cluster's other nodes (host, port)


@dataclass(frozen=True)
class Topology:
    """Everything the environment of an app's instances is computed from."""

    app: str
    buildfile: BuildFile
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    http_urls: dict[str, str] = field(default_factory=dict)
    ports: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    addresses: dict[tuple[str, int], str] = field(default_factory=dict)  # instance → its host
    trusted_proxies: int = PLATFORM_PROXIES  # proxies adding to X-Forwarded-For before the app


def check_variable_name(name: str) -> None:
    """Refuse an application variable the platform would refuse."""
    if not VARIABLE_NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not a valid variable name: use letters, digits and _, "
            "not starting with a digit"
        )
    if name.upper().startswith(RESERVED_PREFIX):
        raise UsageError(
            f"{name}: names starting with {RESERVED_PREFIX} are reserved for the platform's "
            "own variables; choose another name"
        )


def _prefix(service_name: str) -> str:
    return f"DOTCLOUD_{service_name.upper()}_"


def data_service_variables(service: Service, endpoint: Endpoint) -> dict[str, str]:
    """``DOTCLOUD_<NAME>_<TAG>_*`` of a data service; ``_DATABASE`` when the login owns one."""
    tag, scheme = DOTCLOUD_TAGS[service.type]
    prefix = f"{_prefix(service.name)}{tag}_"
    credentials = f"{quote(endpoint.login, safe='')}:{quote(endpoint.password, safe='')}@"
    variables = {
        f"{prefix}HOST": endpoint.host,
        f"{prefix}PORT": str(endpoint.port),
        f"{prefix}LOGIN": endpoint.login,
        f"{prefix}PASSWORD": endpoint.password,
        f"{prefix}URL": f"{scheme}://{credentials}{endpoint.host}:{endpoint.port}",
    }
    if endpoint.database:
        variables[f"{prefix}DATABASE"] = endpoint.database
    if endpoint.others:
        urls = [variables[f"{prefix}URL"]]
        urls += [f"{scheme}://{credentials}{host}:{port}" for host, port in endpoint.others]
        variables[f"{prefix}{rabbitmq_cluster.URLS_SUFFIX}"] = rabbitmq_cluster.joined_urls(urls)
    return variables


def http_variables(service: Service, url: str) -> dict[str, str]:
    """``DOTCLOUD_<NAME>_HTTP_{HOST,URL}`` of a web service (the router's address)."""
    host = url.split("://", 1)[1].rstrip("/")
    return {f"{_prefix(service.name)}HTTP_HOST": host, f"{_prefix(service.name)}HTTP_URL": url}


def ssh_variables(service: Service, host: str = LOOPBACK) -> dict[str, str]:
    """``DOTCLOUD_<NAME>_SSH_*``: present as on the platform; no SSH server listens."""
    prefix = f"{_prefix(service.name)}SSH_"
    return {
        f"{prefix}HOST": host,
        f"{prefix}PORT": SSH_PORT,
        f"{prefix}URL": f"ssh://dotcloud@{host}:{SSH_PORT}",
    }


def custom_port_variables(
    service: Service, ports: Mapping[str, int], host: str = LOOPBACK
) -> dict[str, str]:
    """``DOTCLOUD_<NAME>_<PORT>_{HOST,PORT,URL}`` of the ``ports:`` of a service (instance 0,
    on its ``host``)."""
    variables = {}
    for name, protocol in service.ports.items():
        if name not in ports:
            continue
        prefix = f"{_prefix(service.name)}{name.upper()}_"
        port = ports[name]
        variables[f"{prefix}HOST"] = host
        variables[f"{prefix}PORT"] = str(port)
        suffix = "/" if protocol == "http" else ""
        variables[f"{prefix}URL"] = f"{PORT_SCHEMES[protocol]}://{host}:{port}{suffix}"
    return variables


def platform_variables(topology: Topology, service_name: str, instance: int) -> dict[str, str]:
    """The platform's own variables for one instance: common ones, then every service's."""
    variables = {
        "DOTCLOUD_PROJECT": topology.app,
        "DOTCLOUD_ENVIRONMENT": ENVIRONMENT_NAME,
        "DOTCLOUD_SERVICE_NAME": service_name,
        "DOTCLOUD_SERVICE_ID": str(instance),
    }
    for service in topology.buildfile.services.values():
        if service.name in topology.endpoints and service.type in DOTCLOUD_TAGS:
            variables.update(data_service_variables(service, topology.endpoints[service.name]))
        if service.name in topology.http_urls:
            variables.update(http_variables(service, topology.http_urls[service.name]))
        host = topology.addresses.get((service.name, 0), LOOPBACK)
        variables.update(ssh_variables(service, host))
        variables.update(
            custom_port_variables(service, topology.ports.get((service.name, 0), {}), host)
        )
    own_ports = topology.ports.get((service_name, instance), {})
    for name, port in own_ports.items():
        variables[f"PORT_{name.upper()}"] = str(port)
    return variables


def platform_defaults(topology: Topology) -> dict[str, str]:
    """What the platform says about itself that an application may override (lowest layer)."""
    return {TRUSTED_PROXIES_VARIABLE: str(topology.trusted_proxies)}


def layers(topology: Topology, service_name: str, instance: int) -> ChainMap:
    """The precedence, highest first: platform, application variables, build-file environment,
    the platform's overridable defaults."""
    service = topology.buildfile.services[service_name]
    return ChainMap(
        platform_variables(topology, service_name, instance),
        dict(topology.variables),
        dict(service.environment),
        platform_defaults(topology),
    )


def instance_environment(topology: Topology, service_name: str, instance: int) -> dict[str, str]:
    """The flat environment of one instance: what environment.json holds."""
    return dict(sorted(layers(topology, service_name, instance).items()))


def render_json(environment: Mapping[str, str]) -> str:
    """``environment.json``: indented, one ``"KEY": "value"`` per line (the tutorial's sed)."""
    return json.dumps(dict(environment), indent=4, sort_keys=True) + "\n"


def render_yaml(environment: Mapping[str, str]) -> str:
    """``environment.yml``: the same variables as YAML strings."""
    return yaml.safe_dump(
        {key: str(value) for key, value in environment.items()},
        default_flow_style=False,
        sort_keys=True,
        allow_unicode=True,
    )


def process_environment(
    environment: Mapping[str, str], home: str = HOME_INSIDE, extra_path: str = ""
) -> dict[str, str]:
    """Every process's environment: the variables, HOME, and ``~/env/bin`` first on PATH.

    The platform's own programs (``supervisorctl`` talking to the instance's supervisord) come
    next, before the host's, which know nothing of the instance.
    """
    user = pwd.getpwuid(os.geteuid()).pw_name
    path = (
        f"{home}/env/bin:{home}/platform/bin:"
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    )
    if extra_path:
        path = f"{path}:{extra_path}"
    return {
        **environment,
        "HOME": home,
        "USER": user,
        "LOGNAME": user,
        "SHELL": "/bin/bash",
        "LANG": "C.UTF-8",
        "PATH": path,
        "VIRTUAL_ENV": f"{home}/env",
        "PYTHONUNBUFFERED": "1",
    }
