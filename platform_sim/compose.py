"""``export compose``: a Compose-specification file running the images of ``image build``.

One service per code service (``deploy.replicas`` from ``instances:`` or ``scale``), the data
services with a volume and a readiness healthcheck, ``depends_on`` on their health, every
instance's environment as platform_sim computes it (application variables included). Secrets
never reach a command line (podman-compose turns ``environment`` and ``env_file`` into ``podman
create -e KEY=VALUE``): each code service mounts an owner-only ``<service>.environment.json``
in /run/secrets (its entrypoint, still root, copies it to ~/environment.json for the app's
account), each data service an owner-only ``<service>.password`` (``*_FILE``). A PostgreSQL
service also mounts ``<service>.app-password``, its image's entrypoint gives the app its own
role with it (``approle``): the superuser's password reaches no code service.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from backing_services.podman import LABEL
from backing_services.state import new_password

from . import approle
from .buildfile import BuildFile
from .container_facts import CODE_STOP_GRACE, MOUNTED_SECRETS, WEB_PORT
from .environment import Endpoint, Topology, instance_environment
from .errors import UsageError
from .images import image_name

COMPOSE_FILE = "compose.yaml"
DATA_PORTS = {"postgresql": 5432, "rabbitmq": 5672}
DATA_MOUNTS = {"postgresql": "/var/lib/postgresql/data", "rabbitmq": "/var/lib/rabbitmq"}
DATA_LOGIN = "root"
HOME_DATA = "/home/dotcloud/data"
HEALTHCHECKS = {
    "postgresql": [
        "CMD-SHELL",
        'PGPASSWORD="$$(cat "$$POSTGRES_PASSWORD_FILE")" psql -h 127.0.0.1 -U "$$POSTGRES_USER" '
        "-d postgres -tAq -c 'SELECT 1'",
    ],
    "rabbitmq": ["CMD", "/usr/local/bin/healthcheck"],
}


SECRETS_INSIDE = "/run/secrets"


@dataclass(frozen=True)
class Export:
    """What ``export compose`` writes: compose.yaml's data and each owner-only file's text."""

    compose: dict
    secret_files: dict[str, str]


def password_file(service: str) -> str:
    """The owner-only file holding a data service's password."""
    return f"{service}.password"


def app_password_file(service: str) -> str:
    """The owner-only file holding the password of the app's role on a PostgreSQL service."""
    return f"{service}.app-password"


def environment_file(service: str) -> str:
    """The owner-only file mounted as a code service's environment.json."""
    return f"{service}.environment.json"


def data_environment(kind: str, service: str) -> dict[str, str]:
    """The variables a data image reads (the official images' names); the password by file."""
    secret = f"{SECRETS_INSIDE}/{password_file(service)}"
    if kind == "postgresql":
        return {
            "POSTGRES_USER": DATA_LOGIN,
            "POSTGRES_PASSWORD_FILE": secret,
            "POSTGRES_DB": "postgres",
            **approle.image_variables(),
            f"{approle.IMAGE_PASSWORD}_FILE": f"{SECRETS_INSIDE}/{app_password_file(service)}",
        }
    return {"RABBITMQ_DEFAULT_USER": DATA_LOGIN, "RABBITMQ_DEFAULT_PASS_FILE": secret}


def is_secret(key: str, value: str, variables: Mapping[str, str], passwords: list[str]) -> bool:
    """Application variables and anything holding a password never go inline."""
    return key in variables or key.endswith(("_PASSWORD", "_PASS")) or any(
        password and password in value for password in passwords
    )


def render(
    app: str,
    buildfile: BuildFile,
    revision: str,
    *,
    variables: Mapping[str, str],
    passwords: Mapping[str, str],
    app_passwords: Mapping[str, str],
    scale: Mapping[str, int],
    port: int,
) -> Export:
    """The Compose data and env files for the app (``passwords``: data service → password;
    ``app_passwords``: PostgreSQL service → the password of the app's role)."""
    data = [s for s in buildfile.data_services() if s.type in DATA_PORTS]
    endpoints = {
        s.name: Endpoint(s.name, DATA_PORTS[s.type], DATA_LOGIN, passwords[s.name]) for s in data
    }
    for name, password in app_passwords.items():
        endpoints[name] = Endpoint(
            name, DATA_PORTS["postgresql"], approle.LOGIN, password, approle.DATABASE
        )
    web = [s for s in buildfile.code_services() if s.is_web]
    ports = {s.name: port + index for index, s in enumerate(web)}
    topology = Topology(
        app=app,
        buildfile=buildfile,
        endpoints=endpoints,
        http_urls={name: f"http://127.0.0.1:{p}/" for name, p in ports.items()},
        variables=dict(variables),
        trusted_proxies=1,  # the client reaches the web container's nginx directly
    )
    services: dict[str, dict] = {}
    secret_files: dict[str, str] = {}
    volumes: dict[str, dict] = {}
    labels = {LABEL: app}
    for service in data:
        secret_files[password_file(service.name)] = passwords[service.name]
        mounted = [password_file(service.name)]
        if service.name in app_passwords:
            secret_files[app_password_file(service.name)] = app_passwords[service.name]
            mounted.append(app_password_file(service.name))
        volume = f"{service.name}-data"
        volumes[volume] = {"labels": dict(labels)}
        services[service.name] = {
            "image": image_name(app, service.name, revision),
            "environment": data_environment(service.type, service.name),
            "volumes": [
                f"{volume}:{DATA_MOUNTS[service.type]}",
                *(f"./{name}:{SECRETS_INSIDE}/{name}:ro" for name in mounted),
            ],
            "healthcheck": {
                "test": HEALTHCHECKS[service.type],
                "interval": "2s",
                "timeout": "5s",
                "retries": 90,
                "start_period": "5s",
            },
            "stop_grace_period": "30s",
            "labels": dict(labels),
        }
    secret_values = [*passwords.values(), *app_passwords.values()]
    for service in buildfile.code_services():
        environment = instance_environment(topology, service.name, 0)
        secret = {
            k: v for k, v in environment.items()
            if is_secret(k, v, variables, secret_values)
        }
        secret_files[environment_file(service.name)] = (
            json.dumps(environment, indent=2, sort_keys=True) + "\n"
        )
        volume = f"{service.name}-data"
        volumes[volume] = {"labels": dict(labels)}
        entry: dict = {
            "image": image_name(app, service.name, revision),
            # for `podman inspect` only: the entrypoint takes the mounted file's variables
            "environment": {
                k: v.replace("$", "$$") for k, v in environment.items() if k not in secret
            },
            "volumes": [
                f"{volume}:{HOME_DATA}",
                f"./{environment_file(service.name)}:{MOUNTED_SECRETS}/environment.json:ro",
            ],
            "deploy": {"replicas": int(scale.get(service.name, service.instances))},
            "stop_grace_period": f"{CODE_STOP_GRACE}s",
            "labels": dict(labels),
        }
        if data:
            entry["depends_on"] = {s.name: {"condition": "service_healthy"} for s in data}
        if service.name in ports:
            first = ports[service.name]
            replicas = entry["deploy"]["replicas"]
            published = str(first) if replicas == 1 else f"{first}-{first + replicas - 1}"
            entry["ports"] = [f"127.0.0.1:{published}:{WEB_PORT}"]
        services[service.name] = entry
    return Export({"name": app, "services": services, "volumes": volumes}, secret_files)


def kept_password(path: Path) -> str:
    """The password an earlier export wrote to ``path``, else a new one."""
    old = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    return old or new_password()


def kept_passwords(folder: Path, buildfile: BuildFile) -> dict[str, str]:
    """Each data service's password: the one of an earlier export in ``folder``, else new."""
    return {
        service.name: kept_password(folder / password_file(service.name))
        for service in buildfile.data_services()
    }


def kept_app_passwords(folder: Path, buildfile: BuildFile) -> dict[str, str]:
    """Each PostgreSQL service's password of the app's role (kept as ``kept_passwords``)."""
    return {
        service.name: kept_password(folder / app_password_file(service.name))
        for service in buildfile.data_services()
        if service.type == "postgresql"
    }


def check_target(folder: Path, force: bool) -> None:
    """Refuse a non-empty folder unless ``force``; refuse a file."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UsageError(
            f"-o {folder}: the folder is not empty; choose an empty one or pass --force "
            "(generated passwords there are kept)"
        )


def write(folder: Path, export: Export) -> list[Path]:
    """Write compose.yaml and the owner-only env files; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in export.secret_files.items():
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        path.chmod(0o600)
        written.append(path)
    path = folder / COMPOSE_FILE
    header = (
        "# Written by platform_sim export compose (Compose specification). Secrets are in the\n"
        "# owner-only *.password and *.environment.json files beside this file, mounted into\n"
        "# the containers (never on a command line). Up: podman-compose up -d\n"
    )
    path.write_text(header + yaml.safe_dump(export.compose, sort_keys=False))
    written.append(path)
    return written


def export_compose(
    folder: Path,
    app: str,
    target: Path,
    *,
    force: bool = False,
    port: int = 8080,
    variables: Mapping[str, str] | None = None,
    scale: Mapping[str, int] | None = None,
) -> list[Path]:
    """Export the app in ``folder`` (its revision's image names) into ``target``."""
    from .buildfile import load
    from .images import check_containerizable, uploaded
    from .output import QuietPrinter

    if not 1 <= port <= 65535:
        raise UsageError(f"--port {port}: not a TCP port (1-65535)")
    check_target(target, force)
    buildfile = load(folder)
    check_containerizable(buildfile)
    with uploaded(folder, QuietPrinter(), exclude=target) as (_, revision):
        export = render(
            app,
            buildfile,
            revision,
            variables=variables or {},
            passwords=kept_passwords(target, buildfile),
            app_passwords=kept_app_passwords(target, buildfile),
            scale=scale or {},
            port=port,
        )
    return write(target, export)
