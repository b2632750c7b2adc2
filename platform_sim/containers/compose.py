"""``export compose``: a Compose-specification file running the images of ``image build``.

One service per code service (``deploy.replicas`` from ``instances:`` or ``scale``), the data
services with a volume and a readiness healthcheck, ``depends_on`` on their health, every
instance's environment as platform_sim computes it (application variables included). Secrets
never reach a command line (podman-compose turns ``environment`` and ``env_file`` into ``podman
create -e KEY=VALUE``): each code service mounts an owner-only ``<service>.environment.json``
in /run/secrets, owned by the app's account (uid 10001), each data service an owner-only
``<service>.password`` (``*_FILE``). A PostgreSQL service also mounts ``<service>.app-password``,
its image's entrypoint gives the app its own role with it (``approle``): the superuser's
password reaches no code service. Code containers are confined as the Kubernetes export's pods
are: they run as the app's account from the start (``user``), with no capability at all, no new
privileges, a read-only image and tmpfs mounts the account owns where the programs write. Only
an export run by another user than root (who cannot give a file to uid 10001) keeps the former
mode: the entrypoint starts as root with the four capabilities it needs to read the secret,
hand the account its folders and become it (it loses them with root).
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
from platform_sim.appfile.buildfile import BuildFile
from platform_sim.appfile.environment import HOME_INSIDE, Endpoint, Topology, instance_environment
from platform_sim.containers.entry import LOG_DIRS
from platform_sim.containers.facts import CODE_STOP_GRACE, CODE_UID, MOUNTED_SECRETS, WEB_PORT
from platform_sim.containers.images import image_name
from platform_sim.errors import UsageError
from platform_sim.files import write_text
from platform_sim.services import approle

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
# Only when the export cannot give the secret to the account (not run as root): the code
# container's entrypoint starts as root to read its root-only secret, give the account its
# output, mount points and data volume (chown, reading folders the account owns) and become it
# (setgid, setuid): those four capabilities, and only until it gives root up.
CODE_CAPABILITIES = ("CHOWN", "DAC_READ_SEARCH", "SETGID", "SETUID")
# Where a code container's programs write, its image being read-only: the home (a tmpfs the
# image's code is copied into: postinstall writes there, nginx keeps its temporary files in
# ~/platform/nginx) and the logs, both the account's from their mounting (Podman's ``U``: owned
# by the container's user); /tmp and /run.
OWNED = "U"
CODE_TMPFS = (
    "/tmp",  # noqa: S108 - a mount point inside the container
    "/run",
    f"{HOME_INSIDE}:exec,mode=0755,{OWNED}",
    *(f"{folder}:mode=0755,{OWNED}" for folder in LOG_DIRS),
)

# Limits set for a container started as the account: Podman asks for more than the host's hard
# limits by default, which only a process with CAP_SYS_RESOURCE may set (runc then refuses to
# start the container); these stay below common hard limits and hold the tutorial's programs.
CODE_ULIMITS = {"nofile": {"soft": 4096, "hard": 4096}, "nproc": 4096}


def code_hardening(as_account: bool = True) -> dict:
    """A code service's confinement (Compose keys): read-only image, tmpfs, no capability,
    started as the app's account (``as_account``) or else as root with ``CODE_CAPABILITIES``."""
    start = (
        {"user": f"{CODE_UID}:{CODE_UID}", "ulimits": dict(CODE_ULIMITS)} if as_account
        else {"cap_add": list(CODE_CAPABILITIES)}
    )
    return {
        "read_only": True,
        "tmpfs": list(CODE_TMPFS),
        "cap_drop": ["ALL"],
        **start,
        "security_opt": ["no-new-privileges:true"],
    }


def can_give_files() -> bool:
    """Whether this process can give a file to the app's account (only root can)."""
    return os.geteuid() == 0


@dataclass(frozen=True)
class Export:
    """What ``export compose`` writes: compose.yaml's data and each owner-only file's text."""

    compose: dict
    secret_files: dict[str, str]
    account_files: frozenset[str] = frozenset()  # given to the app's account, not the user


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
    as_account: bool = True,
) -> Export:
    """The Compose data and env files for the app (``passwords``: data service → password;
    ``app_passwords``: PostgreSQL service → the password of the app's role; ``as_account``:
    code containers start as the app's account, which owns their environment files)."""
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
            **code_hardening(as_account),
        }
        if data:
            entry["depends_on"] = {s.name: {"condition": "service_healthy"} for s in data}
        if service.name in ports:
            first = ports[service.name]
            replicas = entry["deploy"]["replicas"]
            published = str(first) if replicas == 1 else f"{first}-{first + replicas - 1}"
            entry["ports"] = [f"127.0.0.1:{published}:{WEB_PORT}"]
        services[service.name] = entry
    account_files = frozenset(
        environment_file(service.name) for service in buildfile.code_services() if as_account
    )
    return Export(
        {"name": app, "services": services, "volumes": volumes}, secret_files, account_files
    )


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


def check_no_links(folder: Path, buildfile: BuildFile) -> None:
    """Refuse, in one line, a link in ``folder`` where the export reads or writes a file."""
    names = [COMPOSE_FILE]
    names += [password_file(service.name) for service in buildfile.data_services()]
    names += [
        app_password_file(service.name)
        for service in buildfile.data_services()
        if service.type == "postgresql"
    ]
    names += [environment_file(service.name) for service in buildfile.code_services()]
    for name in names:
        if (folder / name).is_symlink():
            raise UsageError(
                f"-o {folder}: {name} is a symbolic link; remove it (the export writes its own "
                "files, never through a link)"
            )


def write(folder: Path, export: Export) -> list[Path]:
    """Write compose.yaml and the owner-only env files (0600 from their creation, never
    through a link; a code service's owned by the app's account when it starts as it); the
    paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in export.secret_files.items():
        owner = CODE_UID if name in export.account_files else None
        write_text(folder / name, text, owner=owner)
        written.append(folder / name)
    path = folder / COMPOSE_FILE
    header = (
        "# Written by platform_sim export compose (Compose specification). Secrets are in the\n"
        "# owner-only *.password and *.environment.json files beside this file, mounted into\n"
        "# the containers (never on a command line). Up: podman-compose up -d\n"
    )
    write_text(path, header + yaml.safe_dump(export.compose, sort_keys=False), 0o644)
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
    as_account: bool | None = None,
) -> list[Path]:
    """Export the app in ``folder`` (its revision's image names) into ``target``; code
    containers start as the app's account unless ``as_account`` is False (by default: when
    this process can give it their environment files)."""
    from platform_sim.appfile.buildfile import load
    from platform_sim.containers.images import check_containerizable, uploaded
    from platform_sim.output import QuietPrinter

    if not 1 <= port <= 65535:
        raise UsageError(f"--port {port}: not a TCP port (1-65535)")
    check_target(target, force)
    buildfile = load(folder)
    check_containerizable(buildfile)
    check_no_links(target, buildfile)
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
            as_account=can_give_files() if as_account is None else as_account,
        )
    return write(target, export)
