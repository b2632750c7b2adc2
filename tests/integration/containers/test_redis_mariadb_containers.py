"""Redis and MariaDB in containers of our images (Debian's packages): log in only with the
password, run as their own accounts, keep their data in a kept directory."""

from __future__ import annotations

import contextlib

import pytest
import redis

from backing_services import DockerMariaDB, DockerRedis, engine_socket
from tests.integration import server_checks
from tests.integration.server_checks import (
    mariadb_app_round_trip,
    mariadb_keeps_its_data,
    mariadb_refuses_root_and_wrong_passwords_over_tcp,
    redis_round_trip,
)

from .conftest import process_uids

pytestmark = pytest.mark.integration
kept_dir = server_checks.kept_dir  # a fixture


@pytest.fixture(scope="module", autouse=True)
def our_podman():
    """testcontainers on the Podman API of this process, so that our images are used."""
    engine_socket.podman_engine()


def container_id(server) -> str:
    return server.container.get_wrapped_container().id


def server_runs_unprivileged(server, program: str) -> None:
    owners = process_uids(container_id(server))
    mine = {command: uids for command, uids in owners.items() if program in command}
    assert mine, owners
    assert all(0 not in uids for uids in mine.values()), mine


def test_redis_container_round_trip_needs_the_password():
    with DockerRedis() as server:
        assert server.image.startswith("localhost/minestrone-redis:")
        redis_round_trip(server)
        server_runs_unprivileged(server, "redis-server")
        health = server.container.exec(["/usr/local/bin/healthcheck"])
        assert health.exit_code == 0, health.output


def test_redis_container_keeps_data_and_password_in_a_kept_directory(kept_dir):
    with DockerRedis(kept_dir) as first:
        redis.Redis.from_url(first.url).rpush("jobs", "job-1")
        password = first.password
    with DockerRedis(kept_dir, appendfsync="everysec") as second:
        assert second.password == password
        assert redis.Redis.from_url(second.url).lrange("jobs", 0, -1) == [b"job-1"]
        redis_round_trip(second, appendfsync="everysec")


def test_mariadb_container_app_account_round_trip_and_root_refused_over_tcp():
    with DockerMariaDB() as server:
        assert server.image.startswith("localhost/minestrone-mariadb:")
        mariadb_app_round_trip(server)
        url = server.create_database("t_module")
        assert url.endswith("/t_module")
        with contextlib.closing(server.connect("t_module")) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        server.drop_database("t_module")
        mariadb_refuses_root_and_wrong_passwords_over_tcp(server)
        server_runs_unprivileged(server, "mariadbd")
        health = server.container.exec(["/usr/local/bin/healthcheck"])
        assert health.exit_code == 0, health.output


def test_mariadb_container_keeps_data_and_credentials_in_a_kept_directory(kept_dir):
    mariadb_keeps_its_data(lambda: DockerMariaDB(kept_dir))
