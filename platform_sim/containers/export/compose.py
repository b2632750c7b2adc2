"""``export compose``: a Compose-specification file running the images of ``image build``.

One service per code service (``deploy.replicas`` from ``instances:`` or ``scale``), the data
services with a volume and their kind's readiness healthcheck, ``depends_on`` on their health,
every instance's environment as platform_sim computes it (application variables included).
Secrets never reach a command line (podman-compose turns ``environment`` and ``env_file`` into
``podman create -e KEY=VALUE``): each code service mounts an owner-only
``<service>.environment.json`` in /run/secrets, owned by the app's account (uid 10001), each
data service an owner-only ``<service>.password`` (``*_FILE``). A kind with an app role
(PostgreSQL) also mounts ``<service>.app-password``, its image's entrypoint gives the app its
own role with it: the superuser's password reaches no code service. Code containers are
confined as the Kubernetes export's pods are: they run as the app's account from the start
(``user``), with no capability at all, no new privileges, a read-only image and tmpfs mounts
the account owns where the programs write. Only an export run by another user than root (who
cannot give a file to uid 10001) keeps the former mode: the entrypoint starts as root with the
four capabilities it needs to read the secret, hand the account its folders and become it (it
loses them with root).
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
from platform_sim.address import LOOPBACK
from platform_sim.appfile.buildfile import BuildFile, Service
from platform_sim.appfile.environment import HOME_INSIDE, Endpoint, Topology, instance_environment
from platform_sim.containers.entry import LOG_DIRS
from platform_sim.containers.export.base import (
    Exporter,
    ExportRequest,
    OutputFile,
    check_empty,
    check_no_links,
)
from platform_sim.containers.facts import (
    CODE_STOP_GRACE,
    CODE_UID,
    DROPPED_CAPABILITIES,
    SECRETS_INSIDE,
    WEB_PORT,
)
from platform_sim.containers.images import check_containerizable, image_name, uploaded
from platform_sim.errors import UsageError
from platform_sim.kinds.base import APP_DATABASE, APP_LOGIN, PLATFORM_LOGIN
from platform_sim.kinds.registry import KINDS
from platform_sim.output import QuietPrinter

COMPOSE_FILE = "compose.yaml"
HEADER = (
    "# Written by platform_sim export compose (Compose specification). Secrets are in the\n"
    "# owner-only *.password and *.environment.json files beside this file, mounted into\n"
    "# the containers (never on a command line). Up: podman-compose up -d\n"
)
HEALTHCHECK = {"interval": "2s", "timeout": "5s", "retries": 90, "start_period": "5s"}
DATA_STOP_GRACE = "30s"
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
        "cap_drop": list(DROPPED_CAPABILITIES),
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
    """The owner-only file holding the password of the app's role on a data service."""
    return f"{service}.app-password"


def environment_file(service: str) -> str:
    """The owner-only file mounted as a code service's environment.json."""
    return f"{service}.environment.json"


def has_app_role(service: Service) -> bool:
    """Whether the service's kind gives the app a role of its own."""
    return KINDS[service.type].has_app_role


def is_secret(key: str, value: str, variables: Mapping[str, str], passwords: list[str]) -> bool:
    """Application variables and anything holding a password never go inline."""
    return key in variables or key.endswith(("_PASSWORD", "_PASS")) or any(
        password and password in value for password in passwords
    )


@dataclass(frozen=True)
class Inputs:
    """What every service of the file is rendered from."""

    app: str
    revision: str
    topology: Topology
    data: list[Service]
    web_ports: dict[str, int]
    variables: Mapping[str, str]
    secret_values: list[str]
    scale: Mapping[str, int]
    as_account: bool

    @property
    def labels(self) -> dict[str, str]:
        """The label naming the app that owns every service and volume (what cleanups find)."""
        return {LABEL: self.app}


def endpoints(
    buildfile: BuildFile, passwords: Mapping[str, str], app_passwords: Mapping[str, str]
) -> dict[str, Endpoint]:
    """Where the app finds each data service (its name on the Compose network): the app's own
    role where its kind has one, else the platform's login."""
    found = {}
    for service in buildfile.data_services():
        if service.type not in KINDS:
            continue
        name, port = service.name, KINDS[service.type].port
        if name in app_passwords:
            found[name] = Endpoint(name, port, APP_LOGIN, app_passwords[name], APP_DATABASE)
        else:
            found[name] = Endpoint(name, port, PLATFORM_LOGIN, passwords[name])
    return found


def data_service(inputs: Inputs, service: Service) -> dict:
    """A data service: its kind's image, settings (passwords by file), volume and healthcheck."""
    kind = KINDS[service.type]
    mounted = [password_file(service.name)]
    app_file = None
    if has_app_role(service):
        mounted.append(app_password_file(service.name))
        app_file = f"{SECRETS_INSIDE}/{app_password_file(service.name)}"
    return {
        "image": image_name(inputs.app, service.name, inputs.revision),
        "environment": kind.image_settings_by_file(
            PLATFORM_LOGIN, f"{SECRETS_INSIDE}/{password_file(service.name)}", app_file
        ),
        "volumes": [
            f"{service.name}-data:{kind.container.data_path}",
            *(f"./{name}:{SECRETS_INSIDE}/{name}:ro" for name in mounted),
        ],
        "healthcheck": {"test": list(kind.container.compose_check), **HEALTHCHECK},
        "stop_grace_period": DATA_STOP_GRACE,
        "labels": inputs.labels,
    }


def published(first: int, replicas: int) -> str:
    """The loopback ports a web service's replicas are published on."""
    ports = str(first) if replicas == 1 else f"{first}-{first + replicas - 1}"
    return f"{LOOPBACK}:{ports}:{WEB_PORT}"


def code_service(inputs: Inputs, service: Service, environment: Mapping[str, str]) -> dict:
    """A code service: its image, replicas, environment file, data volume and confinement."""
    secret = {
        k for k, v in environment.items()
        if is_secret(k, v, inputs.variables, inputs.secret_values)
    }
    replicas = int(inputs.scale.get(service.name, service.instances))
    entry: dict = {
        "image": image_name(inputs.app, service.name, inputs.revision),
        # for `podman inspect` only: the entrypoint takes the mounted file's variables
        "environment": {
            k: v.replace("$", "$$") for k, v in environment.items() if k not in secret
        },
        "volumes": [
            f"{service.name}-data:{HOME_INSIDE}/data",
            f"./{environment_file(service.name)}:{SECRETS_INSIDE}/environment.json:ro",
        ],
        "deploy": {"replicas": replicas},
        "stop_grace_period": f"{CODE_STOP_GRACE}s",
        "labels": inputs.labels,
        **code_hardening(inputs.as_account),
    }
    if inputs.data:
        entry["depends_on"] = {s.name: {"condition": "service_healthy"} for s in inputs.data}
    if service.name in inputs.web_ports:
        entry["ports"] = [published(inputs.web_ports[service.name], replicas)]
    return entry


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
    ``app_passwords``: service → the password of the app's role; ``as_account``: code
    containers start as the app's account, which owns their environment files)."""
    web = [s for s in buildfile.code_services() if s.is_web]
    ports = {s.name: port + index for index, s in enumerate(web)}
    topology = Topology(
        app=app,
        buildfile=buildfile,
        endpoints=endpoints(buildfile, passwords, app_passwords),
        http_urls={name: f"http://{LOOPBACK}:{p}/" for name, p in ports.items()},
        variables=dict(variables),
        trusted_proxies=1,  # the client reaches the web container's nginx directly
    )
    inputs = Inputs(
        app, revision, topology, [s for s in buildfile.data_services() if s.type in KINDS],
        ports, variables, [*passwords.values(), *app_passwords.values()], scale, as_account,
    )
    services: dict[str, dict] = {}
    secret_files: dict[str, str] = {}
    for service in inputs.data:
        secret_files[password_file(service.name)] = passwords[service.name]
        if service.name in app_passwords:
            secret_files[app_password_file(service.name)] = app_passwords[service.name]
        services[service.name] = data_service(inputs, service)
    for service in buildfile.code_services():
        environment = instance_environment(topology, service.name, 0)
        secret_files[environment_file(service.name)] = (
            json.dumps(environment, indent=2, sort_keys=True) + "\n"
        )
        services[service.name] = code_service(inputs, service, environment)
    volumes = {f"{name}-data": {"labels": inputs.labels} for name in services}
    account_files = frozenset(
        environment_file(service.name) for service in buildfile.code_services() if as_account
    )
    return Export(
        {"name": app, "services": services, "volumes": volumes}, secret_files, account_files
    )


def output_files(export: Export) -> dict[str, OutputFile]:
    """The owner-only files (a code service's given to the app's account when it starts as
    it), then compose.yaml."""
    files = {
        name: OutputFile(text, owner=CODE_UID if name in export.account_files else None)
        for name, text in export.secret_files.items()
    }
    files[COMPOSE_FILE] = OutputFile(
        HEADER + yaml.safe_dump(export.compose, sort_keys=False), 0o644
    )
    return files


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
    """The password of the app's role on each service with one (kept as ``kept_passwords``)."""
    return {
        service.name: kept_password(folder / app_password_file(service.name))
        for service in buildfile.data_services()
        if has_app_role(service)
    }


def written_names(buildfile: BuildFile) -> list[str]:
    """Every file the export reads or writes in the output folder."""
    data = buildfile.data_services()
    return [
        COMPOSE_FILE,
        *(password_file(service.name) for service in data),
        *(app_password_file(service.name) for service in data if has_app_role(service)),
        *(environment_file(service.name) for service in buildfile.code_services()),
    ]


@dataclass(frozen=True)
class ComposeRequest(ExportRequest):
    """``export compose``'s request: the first web port published; whether code containers
    start as the app's account (None: when this process can give it their files)."""

    port: int = 8080
    as_account: bool | None = None


class ComposeExport(Exporter):
    """compose.yaml and its owner-only secret files."""

    format = "compose"
    request: ComposeRequest

    def check_request(self) -> None:
        """A TCP port; an empty folder unless ``--force``."""
        if not 1 <= self.request.port <= 65535:
            raise UsageError(f"--port {self.request.port}: not a TCP port (1-65535)")
        check_empty(self.request.out, self.request.force)

    def check(self, buildfile: BuildFile) -> None:
        """Types image build containerizes; no link where a file is read or written."""
        check_containerizable(buildfile)
        check_no_links(self.request.out, written_names(buildfile))

    @property
    def as_account(self) -> bool:
        """Whether code containers start as the app's account."""
        chosen = self.request.as_account
        return can_give_files() if chosen is None else chosen

    def render(self, buildfile: BuildFile) -> dict[str, OutputFile]:
        """The files, with the image names of the folder's revision."""
        out = self.request.out
        with uploaded(self.request.folder, QuietPrinter(), exclude=out) as (_, revision):
            export = render(
                self.app,
                buildfile,
                revision,
                variables=self.request.variables,
                passwords=kept_passwords(out, buildfile),
                app_passwords=kept_app_passwords(out, buildfile),
                scale=self.request.scale,
                port=self.request.port,
                as_account=self.as_account,
            )
        return output_files(export)

    def next_steps(self) -> list[str]:
        """How the code containers start, how to build the images and bring it up."""
        steps = []
        if not self.as_account:
            steps.append(
                "Not run as root: the code containers start as root (four capabilities, lost "
                "with it) to read their secret; export as root to start them as uid "
                f"{CODE_UID}"
            )
        steps.append(
            f"Images: platform_sim -A {self.app} image build {self.request.folder}; then, in "
            f"{self.request.out}: podman-compose up -d (README, Containers)"
        )
        return steps
