"""The testcontainers path, configured against hand-written fakes (no Docker engine here)."""

import pytest

from backing_services.containers import (
    DockerMariaDB,
    DockerPostgres,
    DockerRabbitMQ,
    DockerRedis,
    docker_available,
    docker_problem,
)
from backing_services.errors import ServiceError, ServiceStartError
from backing_services.state import load_state


class FakeClient:
    def __init__(self, ping_error=None):
        self.ping_error = ping_error
        self.closed = False

    def ping(self):
        if self.ping_error:
            raise self.ping_error
        return True

    def close(self):
        self.closed = True


def test_an_engine_that_answers():
    client = FakeClient()
    calls = []

    def factory(**kwargs):
        calls.append(kwargs)
        return client

    assert docker_problem(factory) is None
    assert docker_available(factory)
    assert calls[0] == {"timeout": 2.0}
    assert client.closed


def test_no_engine_at_all():
    def factory(**kwargs):
        raise OSError("Error while fetching server API version: No such file or directory")

    assert "no Docker engine: Error while fetching server API version" in docker_problem(factory)
    assert not docker_available(factory)


def test_an_engine_that_does_not_answer_the_ping():
    client = FakeClient(ping_error=TimeoutError("read timed out"))
    assert "does not answer: read timed out" in docker_problem(lambda **kw: client)
    assert client.closed


class FakeExecResult:
    def __init__(self, exit_code, output):
        self.exit_code, self.output = exit_code, output


class FakeContainer:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.volumes = []
        self.extra = {}
        self.events = []
        self.status = "created"
        self.exec_results = {}
        self.start_error = None
        self.ports = {str(kwargs.get("port")): None}
        self.env = {}

    def with_volume_mapping(self, host, container, mode="ro"):
        self.volumes.append((host, container, mode))
        return self

    def with_kwargs(self, **kwargs):
        self.extra.update(kwargs)
        return self

    def with_command(self, command):
        self.command = command
        return self

    def with_env(self, name, value):
        self.env[name] = value
        return self

    def start(self):
        self.events.append("start")
        if self.start_error:
            raise self.start_error
        self.status = "running"
        return self

    def stop(self):
        self.events.append("stop")

    def get_container_host_ip(self):
        return "localhost"

    def get_exposed_port(self, port):
        return {5432: "49153", 5672: "49154", 6379: "49155", 3306: "49156"}[port]

    def get_logs(self):
        return b"database system is ready\n", b""

    def exec(self, command):
        self.events.append(command)
        return self.exec_results.get(command[2], FakeExecResult(0, b""))


class Recorder:
    """A container factory that remembers what it made."""

    def __init__(self):
        self.made = []

    def __call__(self, **kwargs):
        self.made.append(FakeContainer(**kwargs))
        return self.made[-1]


class OfflinePostgres(DockerPostgres):
    def check_ready(self):
        pass


class OfflineRabbitMQ(DockerRabbitMQ):
    def check_ready(self):
        pass


def test_postgres_container_configuration():
    factory = Recorder()
    container = DockerPostgres(container_factory=factory).make_container()
    kwargs = dict(container.kwargs)
    password = kwargs.pop("password")
    assert kwargs == {
        "image": "postgres:15",
        "port": 5432,
        "username": "root",
        "dbname": "postgres",
        "driver": None,
    }
    assert len(password) >= 24
    assert container.volumes == []
    assert container.ports == {"5432": ("127.0.0.1", None)}  # never on every interface


def test_postgres_container_url_and_life_cycle():
    factory = Recorder()
    with OfflinePostgres(container_factory=factory) as server:
        container = factory.made[0]
        assert server.url == f"postgresql://root:{server.password}@127.0.0.1:49153/postgres"
        assert server.database_url("app").endswith("@127.0.0.1:49153/app")
        assert "ready" in server.log_tail()
    assert container.events == ["start", "stop"]
    assert "ready" in server.log_tail()


def test_a_container_that_fails_to_start_is_removed():
    factory = Recorder()

    def failing(**kwargs):
        container = factory(**kwargs)
        container.start_error = RuntimeError("image pull failed")
        return container

    with (
        pytest.raises(RuntimeError, match="image pull failed"),
        OfflinePostgres(container_factory=failing),
    ):
        pytest.fail("not reached")
    assert factory.made[0].events == ["start", "stop"]


def test_a_container_that_exits_while_starting_reports_its_logs():
    class Dying(DockerPostgres):
        def check_ready(self):
            self.container.status = "exited"
            raise ConnectionRefusedError("refused")

    with pytest.raises(ServiceStartError, match="database system is ready"):
        Dying(container_factory=Recorder()).start()


def test_postgres_data_dir_becomes_a_volume_with_kept_credentials(tmp_path):
    factory = Recorder()
    first = DockerPostgres(tmp_path, container_factory=factory).make_container()
    second = DockerPostgres(tmp_path, container_factory=factory).make_container()
    assert first.volumes == [(str(tmp_path / "pgdata"), "/var/lib/postgresql/data", "rw")]
    assert first.kwargs["password"] == second.kwargs["password"]
    assert load_state(tmp_path)["password"] == first.kwargs["password"]


def test_rabbitmq_container_configuration_and_url(tmp_path):
    factory = Recorder()
    with OfflineRabbitMQ(tmp_path, container_factory=factory) as server:
        container = factory.made[0]
        assert container.kwargs == {
            "image": "rabbitmq:3.10",
            "port": 5672,
            "username": "root",
            "password": server.password,
            "vhost": "/",
        }
        assert container.volumes == [(str(tmp_path / "rabbitmq"), "/var/lib/rabbitmq", "rw")]
        assert container.extra["hostname"] == "minestrone-rabbitmq"
        assert container.extra["labels"]["io.minestrone.owner"] == "testcontainers"
        assert server.url == f"amqp://root:{server.password}@127.0.0.1:49154/%2F"


def test_rabbitmq_container_vhosts_through_rabbitmqctl():
    factory = Recorder()
    with OfflineRabbitMQ(container_factory=factory) as server:
        container = factory.made[0]
        assert server.add_vhost("jobs") == f"amqp://root:{server.password}@127.0.0.1:49154/jobs"
        server.delete_vhost("jobs")
        container.exec_results["add_vhost"] = FakeExecResult(2, b"Error: boom")
        with pytest.raises(ServiceError, match="rabbitmqctl add_vhost x failed .2.: Error: boom"):
            server.add_vhost("x")
    assert container.events[1:4] == [
        ["rabbitmqctl", "-q", "add_vhost", "jobs"],
        ["rabbitmqctl", "-q", "set_permissions", "-p", "jobs", "root", ".*", ".*", ".*"],
        ["rabbitmqctl", "-q", "delete_vhost", "jobs"],
    ]


def test_a_rabbitmq_container_boots_with_its_virtual_host_and_runs_no_tool_for_it():
    factory = Recorder()
    with OfflineRabbitMQ(vhost="jobs", container_factory=factory) as server:
        container = factory.made[0]
        assert container.kwargs["vhost"] == "jobs"
        assert server.url.endswith("/jobs")  # its readiness check logs in there
        server.add_vhost("jobs")
        assert not any(event[:1] == ["rabbitmqctl"] for event in container.events)
        server.add_vhost("other")
        assert ["rabbitmqctl", "-q", "add_vhost", "other"] in container.events


def test_rabbitmq_container_publishes_on_loopback_only():
    container = DockerRabbitMQ(container_factory=Recorder()).make_container()
    assert container.ports == {"5672": ("127.0.0.1", None)}


def test_postgres_container_syncs_only_when_asked(tmp_path):
    factory = FakeContainer
    throw_away = DockerPostgres(container_factory=factory).make_container()
    assert throw_away.command == "-c fsync=off"
    kept = DockerPostgres(tmp_path, fsync=True, container_factory=factory).make_container()
    assert not hasattr(kept, "command")  # the image's default: fsync on


class OfflineRedis(DockerRedis):
    def check_ready(self):
        pass


class OfflineMariaDB(DockerMariaDB):
    def check_ready(self):
        pass


def test_redis_container_configuration_url_and_kept_password(tmp_path):
    factory = Recorder()
    with OfflineRedis(
        tmp_path, image="localhost/minestrone-redis:abc", container_factory=factory
    ) as server:
        container = factory.made[0]
        assert container.kwargs == {"image": "localhost/minestrone-redis:abc", "port": 6379}
        assert container.env == {"REDIS_PASSWORD": server.password, "REDIS_APPENDFSYNC": "always"}
        assert not hasattr(container, "command")  # our image reads the variables
        assert container.ports == {"6379": ("127.0.0.1", None)}
        assert container.volumes == [(str(tmp_path / "redis"), "/var/lib/redis", "rw")]
        assert server.url == f"redis://:{server.password}@127.0.0.1:49155/0"
    again = DockerRedis(tmp_path, container_factory=Recorder()).make_container()
    assert again.env["REDIS_PASSWORD"] == server.password


def test_redis_official_image_gets_the_same_settings_as_options():
    server = DockerRedis(appendfsync="everysec", container_factory=Recorder())
    container = server.make_container()
    assert container.kwargs["image"] == "redis:7"
    assert container.command == (
        f"redis-server --requirepass {server.password} --appendonly yes "
        "--appendfsync everysec --databases 64"
    )


def test_mariadb_container_configuration_and_url(tmp_path):
    factory = Recorder()
    with OfflineMariaDB(tmp_path, container_factory=factory) as server:
        container = factory.made[0]
        assert container.kwargs == {"image": "mariadb:10.11", "port": 3306}
        assert container.env == {
            "MARIADB_USER": "minestrone",
            "MARIADB_PASSWORD": server.password,
            "MARIADB_DATABASE": "minestrone",
            "MARIADB_TEST_DATABASES": "yes",
            "MARIADB_RANDOM_ROOT_PASSWORD": "1",
            "MARIADB_ROOT_HOST": "localhost",
        }
        assert container.command == "--innodb-flush-log-at-trx-commit=2"
        assert container.ports == {"3306": ("127.0.0.1", None)}
        assert container.volumes == [(str(tmp_path / "mysql"), "/var/lib/mysql", "rw")]
        assert server.url == f"mysql://minestrone:{server.password}@127.0.0.1:49156/minestrone"
    kept = DockerMariaDB(tmp_path, fsync=True, container_factory=FakeContainer).make_container()
    assert not hasattr(kept, "command")
    assert kept.env["MARIADB_PASSWORD"] == server.password


def test_mariadb_container_databases_as_root_through_the_socket():
    factory = Recorder()
    with OfflineMariaDB(container_factory=factory) as server:
        container = factory.made[0]
        url = server.create_database("t_it's")
        assert url.endswith("@127.0.0.1:49156/t_it%27s")
        server.drop_database("t_it's")
        container.exec_results["--batch"] = FakeExecResult(1, b"ERROR 1044: denied")
        with pytest.raises(ServiceError, match="cannot drop 'x' .* .1.: ERROR 1044: denied"):
            server.drop_database("x")
    create, drop = container.events[1], container.events[2]
    assert create[:4] == ["mariadb", "--user=root", "--batch", "-e"]
    assert create[4] == (
        "CREATE DATABASE IF NOT EXISTS `t_it's` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n"
        "GRANT ALL PRIVILEGES ON `t_it's`.* TO 'minestrone'@'%'"
    )
    assert drop[4] == "DROP DATABASE IF EXISTS `t_it's`"
