"""The data services in containers (testcontainers), on Docker or on our own Podman API.

Images: ``MINESTRONE_<KIND>_IMAGE`` when set (``postgres:15``, ``rabbitmq:3``, ``redis:7``,
``mariadb:10.11`` for a user with a registry); else, on our Podman, the images of
``backing_services.images`` (built from Debian's packages, once); else the official ones.
"""

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import engine_socket, process
from .errors import EngineError, ServiceError
from .mariadb import APP_DATABASE, MariaDBService, Statements
from .mariadb_config import render_statement
from .ports import LOOPBACK
from .postgres import MAINTENANCE_DB, PostgresService
from .rabbitmq import RabbitMQService
from .redis import RedisService
from .redis_config import DATABASES
from .state import load_state, new_password, save_state

POSTGRES_IMAGE = "postgres:15"
RABBITMQ_IMAGE = "rabbitmq:3.10"
REDIS_IMAGE = "redis:7"
MARIADB_IMAGE = "mariadb:10.11"
POSTGRES_PORT = 5432
AMQP_PORT = 5672
REDIS_PORT = 6379
MYSQL_PORT = 3306
# RabbitMQ names its data after the host name: a kept volume needs the same one every time.
RABBITMQ_HOSTNAME = "minestrone-rabbitmq"
REDIS_DATA = "/var/lib/redis"  # our image's volume ("/data" in the official one)
MARIADB_DATA = "/var/lib/mysql"
IMAGE_VARIABLES = {
    "postgresql": "MINESTRONE_POSTGRES_IMAGE",
    "rabbitmq": "MINESTRONE_RABBITMQ_IMAGE",
    "redis": "MINESTRONE_REDIS_IMAGE",
    "mariadb": "MINESTRONE_MARIADB_IMAGE",
}


def docker_problem(
    client_factory: Callable[..., Any] | None = None, timeout: float = 2.0
) -> str | None:
    """None when a Docker engine answers a ping within ``timeout``, else the reason it does not."""
    try:
        if client_factory is None:
            import docker

            client_factory = docker.from_env
        client = client_factory(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"
        return f"no Docker engine: {exc}"
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return f"the Docker engine does not answer: {exc}"
    finally:
        with contextlib.suppress(Exception):
            client.close()
    return None


def engine_problem(start_podman: bool = False) -> str | None:
    """None when a Docker engine answers, or (``start_podman``) once our Podman API answers."""
    problem = docker_problem()
    if problem is None or not start_podman:
        return problem
    try:
        engine_socket.podman_engine()
    except EngineError as exc:
        return f"{problem}; and Podman cannot serve one: {exc}"
    return None


def default_image(kind: str, official: str, env: dict | None = None) -> str:
    """The image for ``kind``: the variable's, else ours on our Podman, else the official one."""
    env = os.environ if env is None else env
    if env.get(IMAGE_VARIABLES[kind]):
        return env[IMAGE_VARIABLES[kind]]
    if engine_socket.using_our_podman(env):
        from .images import data_image

        try:
            return data_image(kind)
        except EngineError as exc:
            raise ServiceError(f"cannot build the {kind} image: {exc}") from exc
    return official


def docker_available(client_factory: Callable[..., Any] | None = None) -> bool:
    """Whether a Docker engine answers (checked before any container object is created)."""
    return docker_problem(client_factory) is None


def _credentials(data_dir: Path | None, user: str) -> tuple[str, str]:
    """Stored credentials for a kept volume, fresh ones otherwise."""
    if data_dir is None:
        return user, new_password()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    state = load_state(data_dir) or {"user": user, "password": new_password()}
    save_state(data_dir, state)
    return state["user"], state["password"]


def _host(container: Any) -> str:
    """The address of the container's published ports (``localhost`` as the IPv4 loopback)."""
    host = container.get_container_host_ip()
    return LOOPBACK if host in ("localhost", "") else host


def _loopback_only(container: Any, port: int) -> None:
    """Publish the container's port on 127.0.0.1 only (Docker's default is every interface).

    The binding goes straight into the container's port map, which testcontainers hands to
    docker-py as is: `(address, None)` means that address and a free port.
    """
    container.ports[str(port)] = (LOOPBACK, None)


class _ContainerMixin:
    """Start, wait, stop and read logs of one testcontainers container."""

    container: Any = None
    image_kind: str
    default_image: str
    default_start_timeout: float

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        user: str = "root",
        image: str | None = None,
        start_timeout: float | None = None,
        container_factory: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__()
        self.data_dir = None if data_dir is None else Path(data_dir).absolute()
        self.user = user
        self.image = image
        self.start_timeout = start_timeout or self.default_start_timeout
        self.container_factory = container_factory

    def container_options(self, **kwargs: Any) -> dict:
        """Extra options of the container: our labels, so that cleanup by label finds it."""
        return {"labels": engine_socket.test_labels(), **kwargs}

    def resolve_image(self) -> str:
        """The image to run (decided, and built if it is ours, before the first start)."""
        if self.image is None:
            self.image = default_image(self.image_kind, self.default_image)
        return self.image

    def _wait(self, what: str) -> None:
        process.wait_until_ready(
            self.check_ready,
            alive=lambda: self.container.status != "exited",
            timeout=self.start_timeout,
            what=what,
            tail=self.log_tail,
        )

    def _stop(self) -> None:
        if self.container is not None:
            container, self.container = self.container, None
            container.stop()  # removes the container and its anonymous volumes

    def _read_log(self, lines: int) -> str:
        if self.container is None:
            return ""
        with contextlib.suppress(Exception):
            out, err = self.container.get_logs()
            text = (out + err).decode("utf-8", "replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""


class DockerPostgres(_ContainerMixin, PostgresService):
    """PostgreSQL in a container; with ``data_dir``, its data and credentials are kept there."""

    image_kind = "postgresql"
    default_image = POSTGRES_IMAGE
    default_start_timeout = 60.0

    def __init__(self, data_dir: Path | str | None = None, *, fsync: bool = False, **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        self.fsync = fsync  # off: throw-away test servers only (see LocalPostgres)

    def make_container(self) -> Any:
        """The configured (not yet started) PostgresContainer."""
        factory = self.container_factory
        if factory is None:
            from testcontainers.community.postgres import PostgresContainer as factory
        self.user, self.password = _credentials(self.data_dir, self.user)
        container = factory(
            image=self.resolve_image(),
            port=POSTGRES_PORT,
            username=self.user,
            password=self.password,
            dbname=MAINTENANCE_DB,
            driver=None,
        )
        _loopback_only(container, POSTGRES_PORT)
        container.with_kwargs(**self.container_options())
        if not self.fsync:
            # options alone: our image's entrypoint and the official one both pass them on
            container.with_command("-c fsync=off")
        if self.data_dir is not None:
            container.with_volume_mapping(
                str(self.data_dir / "pgdata"), "/var/lib/postgresql/data", "rw"
            )
        return container

    def _start(self) -> None:
        self.container = self.make_container()
        self.container.start()
        self.host = _host(self.container)
        self.port = int(self.container.get_exposed_port(POSTGRES_PORT))
        self._wait("PostgreSQL container")


class DockerRabbitMQ(_ContainerMixin, RabbitMQService):
    """RabbitMQ in a container; with ``data_dir``, its data and credentials are kept there;
    ``vhost``: the virtual host its first boot creates for the user (``/`` when not given)."""

    image_kind = "rabbitmq"
    default_image = RABBITMQ_IMAGE
    default_start_timeout = 90.0

    def __init__(self, data_dir: Path | str | None = None, *, vhost: str = "/", **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        self.vhost = vhost

    def make_container(self) -> Any:
        """The configured (not yet started) RabbitMqContainer."""
        factory = self.container_factory
        if factory is None:
            from testcontainers.community.rabbitmq import RabbitMqContainer as factory
        self.user, self.password = _credentials(self.data_dir, self.user)
        container = factory(
            image=self.resolve_image(),
            port=AMQP_PORT,
            username=self.user,
            password=self.password,
            vhost=self.vhost,
        )
        _loopback_only(container, AMQP_PORT)
        container.with_kwargs(**self.container_options())
        if self.data_dir is not None:
            container.with_volume_mapping(
                str(self.data_dir / "rabbitmq"), "/var/lib/rabbitmq", "rw"
            )
            container.with_kwargs(**self.container_options(hostname=RABBITMQ_HOSTNAME))
        return container

    def _start(self) -> None:
        self.container = self.make_container()
        self.container.start()
        self.host = _host(self.container)
        self.port = int(self.container.get_exposed_port(AMQP_PORT))
        self._wait("RabbitMQ container")

    def _ctl(self, *args: str, ok_if: tuple[str, ...] = ()) -> None:
        if self.container is None:
            raise ServiceError(f"{self!r} is not running")
        result = self.container.exec(["rabbitmqctl", "-q", *args])
        output = (result.output or b"").decode("utf-8", "replace").strip()
        if result.exit_code != 0 and not any(marker in output for marker in ok_if):
            raise ServiceError(
                f"rabbitmqctl {' '.join(args)} failed ({result.exit_code}): {output}"
            )

    def _vhost_usable(self, name: str) -> bool:
        """The container's own virtual host: its readiness check logged in to it."""
        return self.container is not None and name == self.vhost

    def _create_vhost(self, name: str) -> None:
        self._ctl("add_vhost", name, ok_if=("already exists", "vhost_already_exists"))
        self._ctl("set_permissions", "-p", name, self.user, ".*", ".*", ".*")

    def _delete_vhost(self, name: str) -> None:
        self._ctl("delete_vhost", name, ok_if=("does not exist", "no_such_vhost"))


def _ours(image: str) -> bool:
    """Whether ``image`` is one of ours (built by backing_services.images)."""
    from .images import IMAGE_PREFIX

    return image.startswith(IMAGE_PREFIX)


def _generic(image: str, port: int) -> Any:
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(image)
    container.with_exposed_ports(port)
    return container


class DockerRedis(_ContainerMixin, RedisService):
    """Redis in a container; with ``data_dir``, its data and password are kept there.

    Our image reads ``REDIS_PASSWORD`` and ``REDIS_APPENDFSYNC``; the official one gets the
    same settings as command-line options.
    """

    image_kind = "redis"
    default_image = REDIS_IMAGE
    default_start_timeout = 30.0

    def __init__(
        self, data_dir: Path | str | None = None, *, appendfsync: str = "always", **kwargs: Any
    ) -> None:
        kwargs["user"] = ""  # Redis's default user: no name in the URL
        super().__init__(data_dir, **kwargs)
        self.appendfsync = appendfsync

    def make_container(self) -> Any:
        """The configured (not yet started) container."""
        factory = self.container_factory or _generic
        self.user, self.password = _credentials(self.data_dir, "")
        image = self.resolve_image()
        container = factory(image=image, port=REDIS_PORT)
        container.with_env("REDIS_PASSWORD", self.password)
        container.with_env("REDIS_APPENDFSYNC", self.appendfsync)
        data = REDIS_DATA
        if not _ours(image):
            data = "/data"
            container.with_command(
                f"redis-server --requirepass {self.password} --appendonly yes "
                f"--appendfsync {self.appendfsync} --databases {DATABASES}"
            )
        _loopback_only(container, REDIS_PORT)
        container.with_kwargs(**self.container_options())
        if self.data_dir is not None:
            container.with_volume_mapping(str(self.data_dir / "redis"), data, "rw")
        return container

    def _start(self) -> None:
        self.container = self.make_container()
        self.container.start()
        self.host = _host(self.container)
        self.port = int(self.container.get_exposed_port(REDIS_PORT))
        self._wait("Redis container")


class DockerMariaDB(_ContainerMixin, MariaDBService):
    """MariaDB in a container; with ``data_dir``, its data and credentials are kept there.

    Configured as the official image is (``MARIADB_USER``, ``MARIADB_PASSWORD``,
    ``MARIADB_DATABASE``); root has no password and logs in only through the socket inside.
    """

    image_kind = "mariadb"
    default_image = MARIADB_IMAGE
    default_start_timeout = 90.0

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        fsync: bool = False,
        test_databases: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("user", "minestrone")
        super().__init__(data_dir, **kwargs)
        self.fsync = fsync  # off: throw-away test servers only (see LocalMariaDB)
        self.test_databases = test_databases

    def make_container(self) -> Any:
        """The configured (not yet started) container."""
        factory = self.container_factory or _generic
        self.user, self.password = _credentials(self.data_dir, self.user)
        container = factory(image=self.resolve_image(), port=MYSQL_PORT)
        container.with_env("MARIADB_USER", self.user)
        container.with_env("MARIADB_PASSWORD", self.password)
        container.with_env("MARIADB_DATABASE", APP_DATABASE)
        if self.test_databases:
            container.with_env("MARIADB_TEST_DATABASES", "yes")
        # the official image wants a root password: a random one it never shows, root local only
        container.with_env("MARIADB_RANDOM_ROOT_PASSWORD", "1")
        container.with_env("MARIADB_ROOT_HOST", "localhost")
        if not self.fsync:
            container.with_command("--innodb-flush-log-at-trx-commit=2")
        _loopback_only(container, MYSQL_PORT)
        container.with_kwargs(**self.container_options())
        if self.data_dir is not None:
            container.with_volume_mapping(str(self.data_dir / "mysql"), MARIADB_DATA, "rw")
        return container

    def _start(self) -> None:
        self.database = APP_DATABASE
        self.container = self.make_container()
        self.container.start()
        self.host = _host(self.container)
        self.port = int(self.container.get_exposed_port(MYSQL_PORT))
        self._wait("MariaDB container")

    def _admin(self, statements: Statements, what: str) -> None:
        """As root, through the socket inside the container."""
        if self.container is None:
            raise ServiceError(f"{self!r} is not running")
        script = ";\n".join(render_statement(s, p) for s, p in statements)
        result = self.container.exec(["mariadb", "--user=root", "--batch", "-e", script])
        output = (result.output or b"").decode("utf-8", "replace").strip()
        if result.exit_code != 0:
            raise ServiceError(f"cannot {what} on {self!r} ({result.exit_code}): {output}")
