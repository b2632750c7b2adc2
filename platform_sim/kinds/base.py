"""What a data-service kind is: the one interface every kind module fills in (``Kind``)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The platform's login on every data service it runs (the superuser of its server).
PLATFORM_LOGIN = "root"
# The application's own role where a kind gives it one: it owns one database, nothing more.
APP_LOGIN = "app"
APP_DATABASE = "app"
# The dotCloud platform's names for every data-service type it knew: the tag of its variables
# (``DOTCLOUD_<SVC>_<TAG>_*``) and the scheme of its ``_URL`` (platform.md §2).
DOTCLOUD_TAGS = {
    "postgresql": ("SQL", "pgsql"),
    "postgis": ("SQL", "pgsql"),
    "mysql": ("MYSQL", "mysql"),
    "redis": ("REDIS", "redis"),
    "mongodb": ("MONGODB", "mongodb"),
    "rabbitmq": ("AMQP", "amqp"),
}


@dataclass(frozen=True)
class AppRole:
    """The variables a kind's image reads to give the app a role of its own."""

    login: str
    password: str
    database: str


@dataclass(frozen=True)
class ContainerSpec:
    """How a kind runs in a container (Compose, Kubernetes, kube-play): the image recipe of
    ``backing_services`` (the official images' variable names), its data folder, checks."""

    data_path: str
    login_variable: str | None  # None: the image takes a password only
    password_variable: str
    compose_check: tuple[str, ...]  # a Compose healthcheck ``test``
    kube_check: tuple[str, ...]  # a Kubernetes readinessProbe ``exec`` command
    compose_settings: tuple[tuple[str, str], ...] = ()  # more variables, Compose only
    kube_settings: tuple[tuple[str, str], ...] = ()  # more variables, Kubernetes only
    app_role: AppRole | None = None


@dataclass(frozen=True)
class ExternalURL:
    """The URLs ``export kubernetes --external SVC=URL`` takes for a kind."""

    schemes: tuple[str, ...]
    default_paths: tuple[str, ...]  # paths meaning "the default" (anything else is refused)
    refused_path: str  # what a path would name, for the message refusing it


@dataclass(frozen=True)
class Kind:
    """A data-service type, everywhere platform_sim runs it: on this machine (server, readiness,
    virtual hosts, app role, the process faults aim at), in containers, and as the platform's
    variables. ``server(data, user, address)`` is a backing_services Service; ``check(status)``
    raises unless the server a status file names answers a real request; ``owner(status,
    login, password, database)`` gives the app its role (None: it logs in as the platform)."""

    name: str
    port: int  # its default port (containers, Kubernetes, external URLs)
    port_name: str  # its port's name in a Kubernetes Service
    server: Callable[[Path, str, str], object]
    check: Callable[[Mapping], None]
    server_command: str  # the name of its main process (what ``faults`` kills)
    container: ContainerSpec
    external: ExternalURL
    answer: Callable[[socket.socket, str], None] | None = None  # a raw-socket readiness check
    vhosts: bool = False
    owner: Callable[[Mapping, str, str, str], None] | None = None
    # The login of the server's own credentials (the platform's superuser, Redis's default
    # user, MariaDB's account for the app) and the database it owns, made by the server itself
    # at each start ("": none, the app chooses).
    login: str = PLATFORM_LOGIN
    database: str = ""
    recipe: str = ""  # its backing_services image recipe, when not named as the kind
    # Where its server writes its own log: patterns under its data folder (``logs`` shows them).
    logs: tuple[str, ...] = ("*.log",)

    @property
    def tag(self) -> str:
        """The tag of its variables: ``DOTCLOUD_<SVC>_<TAG>_*``."""
        return DOTCLOUD_TAGS[self.name][0]

    @property
    def image(self) -> str:
        """The backing_services image recipe its containers run."""
        return self.recipe or self.name

    @property
    def has_app_role(self) -> bool:
        """Whether the app gets a role of its own (else the platform's login)."""
        return self.owner is not None

    @property
    def app_database(self) -> str:
        """The database the app's login owns ("" where the app chooses)."""
        return APP_DATABASE if self.has_app_role else self.database

    def ready(self, status: Mapping) -> bool:
        """Whether the server a status file describes answers a real request (a login)."""
        try:
            self.check(status)
        except Exception:  # noqa: BLE001 - refused, reset, timed out, login failed: not ready
            return False
        return True

    def image_settings(
        self, login: str, password: str, app_password: str | None = None
    ) -> dict[str, str]:
        """The variables its image reads: the platform's login and password, then the app's
        role to make (``app_password``: only where the kind has a role)."""
        spec = self.container
        values = {spec.password_variable: password}
        if spec.login_variable is not None:
            values = {spec.login_variable: login, **values}
        if spec.app_role is not None and app_password is not None:
            values.update(
                {
                    spec.app_role.login: APP_LOGIN,
                    spec.app_role.database: APP_DATABASE,
                    spec.app_role.password: app_password,
                }
            )
        return values

    def image_settings_by_file(
        self, login: str, password_file: str, app_password_file: str | None = None
    ) -> dict[str, str]:
        """``image_settings`` with the passwords read from files (``<VARIABLE>_FILE``)."""
        spec = self.container
        values = {f"{spec.password_variable}_FILE": password_file, **dict(spec.compose_settings)}
        if spec.login_variable is not None:
            values = {spec.login_variable: login, **values}
        if spec.app_role is not None and app_password_file is not None:
            values.update(
                {
                    spec.app_role.login: APP_LOGIN,
                    spec.app_role.database: APP_DATABASE,
                    f"{spec.app_role.password}_FILE": app_password_file,
                }
            )
        return values


def answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False
