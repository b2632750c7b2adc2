"""Redis and MariaDB in containers of our images (Debian's packages): log in only with the
password, run as their own accounts, keep their data in a kept directory."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import MySQLdb
import pytest
import redis

from backing_services import DockerMariaDB, DockerRedis, engine_socket

from .conftest import process_uids

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def our_podman():
    """testcontainers on the Podman API of this process, so that our images are used."""
    engine_socket.podman_engine()


@pytest.fixture
def kept_dir():
    path = Path(tempfile.mkdtemp(prefix="minestrone-kept-"))
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


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
        client = redis.Redis.from_url(server.url)
        assert client.set("soup", "minestrone")
        assert client.get("soup") == b"minestrone"
        assert client.config_get("appendfsync")["appendfsync"] == "always"
        for password in (None, "not-it"):
            with pytest.raises(redis.AuthenticationError):
                redis.Redis(host=server.host, port=server.port, password=password).get("soup")
        server_runs_unprivileged(server, "redis-server")
        health = server.container.exec(["/usr/local/bin/healthcheck"])
        assert health.exit_code == 0, health.output


def test_redis_container_keeps_data_and_password_in_a_kept_directory(kept_dir):
    with DockerRedis(kept_dir) as first:
        redis.Redis.from_url(first.url).rpush("jobs", "job-1")
        password = first.password
    with DockerRedis(kept_dir, appendfsync="everysec") as second:
        assert second.password == password
        client = redis.Redis.from_url(second.url)
        assert client.lrange("jobs", 0, -1) == [b"job-1"]
        assert client.config_get("appendfsync")["appendfsync"] == "everysec"


def test_mariadb_container_app_account_round_trip_and_root_refused_over_tcp():
    with DockerMariaDB() as server:
        assert server.image.startswith("localhost/minestrone-mariadb:")
        with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE soup (name VARCHAR(40))")
            cur.execute("INSERT INTO soup VALUES (%s)", ("minestrone 🍲",))
            cur.execute("SELECT name, @@character_set_database FROM soup")
            assert cur.fetchall() == (("minestrone 🍲", "utf8mb4"),)
            with pytest.raises(MySQLdb.OperationalError, match="denied"):
                cur.execute("CREATE DATABASE elsewhere")
        url = server.create_database("t_module")
        assert url.endswith("/t_module")
        with contextlib.closing(server.connect("t_module")) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        server.drop_database("t_module")
        for user, password in (("root", ""), ("root", server.password), (server.user, "no")):
            with pytest.raises(MySQLdb.OperationalError, match="denied"):
                MySQLdb.connect(
                    host=server.host,
                    port=server.port,
                    user=user,
                    password=password,
                    connect_timeout=5,
                )
        server_runs_unprivileged(server, "mariadbd")
        health = server.container.exec(["/usr/local/bin/healthcheck"])
        assert health.exit_code == 0, health.output


def test_mariadb_container_keeps_data_and_credentials_in_a_kept_directory(kept_dir):
    with DockerMariaDB(kept_dir) as first:
        with contextlib.closing(first.connect()) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (n INT)")
            cur.execute("INSERT INTO kept VALUES (7)")
        password = first.password
    with DockerMariaDB(kept_dir) as second:
        assert second.password == password
        with contextlib.closing(second.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT n FROM kept")
            assert cur.fetchall() == ((7,),)
