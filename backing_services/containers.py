"""PostgreSQL and RabbitMQ in Docker containers (testcontainers), used when an engine answers."""

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import process
from .errors import ServiceError
from .ports import LOOPBACK
from .postgres import MAINTENANCE_DB, PostgresService
from .rabbitmq import RabbitMQService
from .state import load_state, new_password, save_state

POSTGRES_IMAGE = "postgres:15"
RABBITMQ_IMAGE = "rabbitmq:3.10"
POSTGRES_PORT = 5432
AMQP_PORT = 5672
# RabbitMQ names its data after the host name: a kept volume needs the same one every time.
RABBITMQ_HOSTNAME = "minestrone-rabbitmq"


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


def _loopback_only(container: Any, port: int) -> None:
    """Publish the container's port on 127.0.0.1 only (Docker's default is every interface).

    The binding goes straight into the container's port map, which testcontainers hands to
    docker-py as is: `(address, None)` means that address and a free port.
    """
    container.ports[str(port)] = (LOOPBACK, None)


class _ContainerMixin:
    """Start, wait, stop and read logs of one testcontainers container."""

    container: Any = None
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
        self.image = image or self.default_image
        self.start_timeout = start_timeout or self.default_start_timeout
        self.container_factory = container_factory

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
            container.stop()

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
            image=self.image,
            port=POSTGRES_PORT,
            username=self.user,
            password=self.password,
            dbname=MAINTENANCE_DB,
            driver=None,
        )
        _loopback_only(container, POSTGRES_PORT)
        if not self.fsync:
            container.with_command("postgres -c fsync=off")
        if self.data_dir is not None:
            container.with_volume_mapping(
                str(self.data_dir / "pgdata"), "/var/lib/postgresql/data", "rw"
            )
        return container

    def _start(self) -> None:
        self.container = self.make_container()
        self.container.start()
        self.host = self.container.get_container_host_ip()
        self.port = int(self.container.get_exposed_port(POSTGRES_PORT))
        self._wait("PostgreSQL container")


class DockerRabbitMQ(_ContainerMixin, RabbitMQService):
    """RabbitMQ in a container; with ``data_dir``, its data and credentials are kept there."""

    default_image = RABBITMQ_IMAGE
    default_start_timeout = 90.0

    def make_container(self) -> Any:
        """The configured (not yet started) RabbitMqContainer."""
        factory = self.container_factory
        if factory is None:
            from testcontainers.community.rabbitmq import RabbitMqContainer as factory
        self.user, self.password = _credentials(self.data_dir, self.user)
        container = factory(
            image=self.image, port=AMQP_PORT, username=self.user, password=self.password
        )
        _loopback_only(container, AMQP_PORT)
        if self.data_dir is not None:
            container.with_volume_mapping(
                str(self.data_dir / "rabbitmq"), "/var/lib/rabbitmq", "rw"
            )
            container.with_kwargs(hostname=RABBITMQ_HOSTNAME)
        return container

    def _start(self) -> None:
        self.container = self.make_container()
        self.container.start()
        self.host = self.container.get_container_host_ip()
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

    def _create_vhost(self, name: str) -> None:
        self._ctl("add_vhost", name, ok_if=("already exists", "vhost_already_exists"))
        self._ctl("set_permissions", "-p", name, self.user, ".*", ".*", ".*")

    def _delete_vhost(self, name: str) -> None:
        self._ctl("delete_vhost", name, ok_if=("does not exist", "no_such_vhost"))
