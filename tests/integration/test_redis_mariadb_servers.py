"""Real local Redis and MariaDB servers: start, log in only with the password, persist, clean up."""

import contextlib
import os
import shutil
import signal
import socket
import stat
import tempfile
from pathlib import Path

import MySQLdb
import pytest
import redis

from backing_services import LocalMariaDB, LocalRedis, PortInUse, ServiceStartError
from backing_services.process import pid_alive
from backing_services.urls import parse_url

pytestmark = pytest.mark.integration


@pytest.fixture
def kept_dir():
    """A directory outliving one server, which the mysql account can enter."""
    path = Path(tempfile.mkdtemp(prefix="minestrone-kept-"))
    path.chmod(0o711)
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def listening_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def anonymous(server, **kwargs):
    return redis.Redis(host=server.host, port=server.port, socket_timeout=5, **kwargs)


# Redis


def test_redis_round_trip_needs_the_password_and_leaves_nothing_behind():
    server = LocalRedis()
    try:
        server.start()
        client = redis.Redis.from_url(server.url)
        assert client.set("soup", "minestrone")
        assert client.get("soup") == b"minestrone"
        with pytest.raises(redis.AuthenticationError):
            anonymous(server).get("soup")
        with pytest.raises(redis.AuthenticationError):
            anonymous(server, password="not-it").get("soup")
        with pytest.raises(redis.AuthenticationError):
            anonymous(server, username="default", password="").ping()
        assert server.password not in (server.directory / "redis.conf").read_text()
        assert stat.S_IMODE((server.directory / "service.json").stat().st_mode) == 0o600
        config = dict(client.config_get("append*"))
        assert (config["appendonly"], config["appendfsync"]) == ("yes", "always")
        pid, directory = server.pid, server.directory
        assert server.alive()
    finally:
        server.stop()
    assert not pid_alive(pid)
    assert not directory.exists()
    server.stop()


def test_redis_keeps_an_acknowledged_write_through_a_crash(kept_dir):
    with LocalRedis(kept_dir) as first:
        redis.Redis.from_url(first.url).rpush("jobs", "job-1")
        password, port = first.password, first.port
        os.kill(first.pid, signal.SIGKILL)  # no shutdown: only what was synced survives
        first._server.wait()
    with LocalRedis(kept_dir) as second:
        assert (second.password, second.port) == (password, port)
        assert redis.Redis.from_url(second.url).lrange("jobs", 0, -1) == [b"job-1"]


def test_redis_appendfsync_everysec_on_request():
    with LocalRedis(appendfsync="everysec") as server:
        config = redis.Redis.from_url(server.url).config_get("appendfsync")
        assert config["appendfsync"] == "everysec"


def test_redis_from_any_provider_needs_the_password(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    client.set("any-provider", "yes")
    assert client.get("any-provider") == b"yes"
    with pytest.raises(redis.AuthenticationError):
        anonymous(redis_server).get("any-provider")
    client.delete("any-provider")


def test_redis_database_numbers_are_handed_out_once(redis_server):
    first, second = redis_server.claim_db(), redis_server.claim_db()
    try:
        assert first != second
        redis_server.client(first).set("k", "first")
        assert redis_server.client(second).get("k") is None
    finally:
        redis_server.release_db(first)
        redis_server.release_db(second)
    assert redis_server.client(first).dbsize() == 0


def test_redis_database_fixture(redis_db_url, redis_server):
    number = int(parse_url(redis_db_url, 6379, "0").path)
    assert number != 0
    client = redis.Redis.from_url(redis_db_url)
    assert client.dbsize() == 0
    client.set("mine", "1")
    assert redis_server.client(0).get("mine") is None


def test_redis_refuses_a_taken_port(listening_port):
    server = LocalRedis(port=listening_port)
    with pytest.raises(PortInUse, match=str(listening_port)):
        server.start()
    assert server.directory is None


def test_redis_that_dies_during_start_reports_its_log(kept_dir):
    with LocalRedis(kept_dir):
        pass
    shutil.rmtree(kept_dir / "appendonlydir")
    (kept_dir / "appendonlydir").write_text("not a directory\n")
    server = LocalRedis(kept_dir)
    with pytest.raises(ServiceStartError, match="Redis exited while starting") as caught:
        server.start()
    assert "appendonlydir" in str(caught.value)
    assert not server.alive()


# MariaDB


def test_mariadb_app_account_round_trip_and_root_refused_over_tcp():
    server = LocalMariaDB()
    try:
        server.start()
        with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE soup (name VARCHAR(40)) ")
            cur.execute("INSERT INTO soup VALUES (%s)", ("minestrone 🍲",))
            cur.execute("SELECT name, @@character_set_database FROM soup")
            assert cur.fetchall() == (("minestrone 🍲", "utf8mb4"),)
            cur.execute("SELECT CURRENT_USER()")
            assert cur.fetchone() == (f"{server.user}@%",)
            with pytest.raises(MySQLdb.OperationalError, match="denied"):
                cur.execute("CREATE DATABASE elsewhere")
        for user, password in (("root", ""), ("root", server.password), (server.user, "no")):
            with pytest.raises(MySQLdb.OperationalError, match="denied|not allowed"):
                MySQLdb.connect(
                    host=server.host,
                    port=server.port,
                    user=user,
                    password=password,
                    connect_timeout=5,
                )
        with contextlib.closing(server._admin_connection()) as conn, conn.cursor() as cur:
            cur.execute("SELECT user, host FROM mysql.user")
            accounts = set(cur.fetchall())
        assert {host for user, host in accounts if user == "root"} == {"localhost"}
        assert ("", "localhost") not in accounts  # no anonymous account
        assert (server.user, "%") in accounts
        assert server.layout.socket.parent == server.directory
        assert f"socket={server.layout.socket}" in server.layout.option_file.read_text()
        pid, directory = server.pid, server.directory
        assert server.alive()
    finally:
        server.stop()
    assert not pid_alive(pid)
    assert not directory.exists()
    server.stop()


def test_mariadb_data_and_credentials_survive_a_restart(kept_dir):
    with LocalMariaDB(kept_dir) as first:
        with contextlib.closing(first.connect()) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (n INT)")
            cur.execute("INSERT INTO kept VALUES (7)")
        password = first.password
    assert stat.S_IMODE((kept_dir / "service.json").stat().st_mode) == 0o600
    with LocalMariaDB(kept_dir) as second:
        assert second.password == password
        with contextlib.closing(second.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT n FROM kept")
            assert cur.fetchall() == ((7,),)


def test_mariadb_from_any_provider_lets_in_the_app_and_not_root_over_tcp(mariadb_server):
    with contextlib.closing(mariadb_server.connect()) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS any_provider (id INT)")
        cur.execute("DROP TABLE any_provider")
    with pytest.raises(MySQLdb.OperationalError, match="denied|not allowed"):
        MySQLdb.connect(
            host=mariadb_server.host, port=mariadb_server.port, user="root", connect_timeout=5
        )


def test_mariadb_database_fixture(mariadb_database_url, mariadb_server):
    name = parse_url(mariadb_database_url, 3306, "").path
    with contextlib.closing(mariadb_server.connect(name)) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        cur.execute(
            "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME = %s",
            (name,),
        )
        assert cur.fetchone() == ("utf8mb4",)


def test_mariadb_lets_the_app_make_djangos_test_database(mariadb_server):
    name = f"test_{mariadb_server.database}_gw9"
    with contextlib.closing(mariadb_server.connect()) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"DROP DATABASE `{name}`")


def test_mariadb_refuses_a_taken_port(listening_port):
    server = LocalMariaDB(port=listening_port)
    with pytest.raises(PortInUse, match=str(listening_port)):
        server.start()


def test_mariadb_that_dies_during_start_reports_its_log(kept_dir):
    with LocalMariaDB(kept_dir):
        pass
    (kept_dir / "data" / "mysql").chmod(0o000)  # the privilege tables cannot be read
    server = LocalMariaDB(kept_dir, start_timeout=30)
    with pytest.raises(ServiceStartError) as caught:
        server.start()
    assert "last lines of its log" in str(caught.value)
    assert not server.alive()
