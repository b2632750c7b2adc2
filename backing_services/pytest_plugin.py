"""pytest fixtures for real PostgreSQL, RabbitMQ, Redis and MariaDB servers; logs on failure."""

import re
import secrets
from collections.abc import Iterator

import pytest

from . import choice, engine_socket
from .base import Service
from .mariadb import MariaDBService
from .postgres import PostgresService
from .rabbitmq import LocalRabbitMQ, RabbitMQService
from .redis import RedisService

SERVERS = pytest.StashKey[list[Service]]()


def pytest_configure(config: pytest.Config) -> None:
    """Keep a list of the servers the session started, for the failure report."""
    config.stash[SERVERS] = []


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the containers this session started and stop our Podman API, if it ran."""
    engine_socket.shutdown()


def _serve(request: pytest.FixtureRequest, server: Service) -> Iterator[Service]:
    request.config.stash.setdefault(SERVERS, []).append(server)
    with server:
        yield server


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresService]:
    """A running PostgreSQL server for the whole session (errors, never skips, if none)."""
    yield from _serve(request, choice.postgres_server())


@pytest.fixture(scope="session")
def rabbitmq_server(request: pytest.FixtureRequest) -> Iterator[RabbitMQService]:
    """A running RabbitMQ server for the whole session (errors, never skips, if none)."""
    yield from _serve(request, choice.rabbitmq_server())


@pytest.fixture(scope="session")
def redis_server(request: pytest.FixtureRequest) -> Iterator[RedisService]:
    """A running Redis server for the whole session (errors, never skips, if none)."""
    yield from _serve(request, choice.redis_server())


@pytest.fixture(scope="session")
def mariadb_server(request: pytest.FixtureRequest) -> Iterator[MariaDBService]:
    """A running MariaDB server for the whole session (errors, never skips, if none)."""
    yield from _serve(request, choice.mariadb_server())


@pytest.fixture(scope="session")
def rabbitmq_management_server(request: pytest.FixtureRequest) -> Iterator[LocalRabbitMQ]:
    """A local RabbitMQ node with the management plugin on a free loopback port (its
    ``management_url``), for the session; started only by the tests that ask for it."""
    yield from _serve(request, LocalRabbitMQ(name="minestrone-mgmt", management=True))


def unique_name(request: pytest.FixtureRequest) -> str:
    """A fresh database/vhost name derived from the requesting test module."""
    module = request.module.__name__.rsplit(".", 1)[-1] if request.module else "session"
    return f"t_{re.sub(r'[^a-z0-9]+', '_', module.lower())[:40]}_{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def postgres_database_url(
    request: pytest.FixtureRequest, postgres_server: PostgresService
) -> Iterator[str]:
    """The URL of a fresh database for this test module, dropped afterwards."""
    name = unique_name(request)
    yield postgres_server.create_database(name)
    postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def rabbitmq_vhost_url(
    request: pytest.FixtureRequest, rabbitmq_server: RabbitMQService
) -> Iterator[str]:
    """The URL of a fresh virtual host for this test module, deleted afterwards."""
    name = unique_name(request)
    yield rabbitmq_server.add_vhost(name)
    rabbitmq_server.delete_vhost(name)


@pytest.fixture(scope="module")
def redis_db_url(redis_server: RedisService) -> Iterator[str]:
    """The URL of a database number of its own for this test module, emptied afterwards."""
    number = redis_server.claim_db()
    yield redis_server.db_url(number)
    redis_server.release_db(number)


@pytest.fixture(scope="module")
def mariadb_database_url(
    request: pytest.FixtureRequest, mariadb_server: MariaDBService
) -> Iterator[str]:
    """The URL of a fresh database for this test module (utf8mb4), dropped afterwards."""
    name = unique_name(request)
    yield mariadb_server.create_database(name)
    mariadb_server.drop_database(name)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """When the run failed, print the last lines of every server's log."""
    if exitstatus == 0:
        return
    for server in config.stash.get(SERVERS, []):
        terminalreporter.write_sep(
            "-", f"last lines of the {server.kind} server's log ({server!r})"
        )
        terminalreporter.write_line(server.log_tail() or "(empty)")
