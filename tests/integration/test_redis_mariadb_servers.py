"""Real local Redis and MariaDB servers: start, log in only with the password, persist, clean up."""

import contextlib
import os
import shutil
import signal
import stat

import MySQLdb
import pytest
import redis

from backing_services import LocalMariaDB, LocalRedis, PortInUse, ServiceStartError
from backing_services.urls import parse_url
from tests.integration import server_checks
from tests.integration.server_checks import (
    leaves_nothing_behind,
    mariadb_app_round_trip,
    mariadb_keeps_its_data,
    mariadb_refuses_root_and_wrong_passwords_over_tcp,
    redis_round_trip,
)

pytestmark = pytest.mark.integration
kept_dir = server_checks.kept_dir  # fixtures
listening_port = server_checks.listening_port


# Redis


def test_redis_round_trip_needs_the_password_and_leaves_nothing_behind():
    with leaves_nothing_behind(LocalRedis()) as server:
        redis_round_trip(server)
        assert server.password not in (server.directory / "redis.conf").read_text()
        assert stat.S_IMODE((server.directory / "service.json").stat().st_mode) == 0o600


def test_redis_from_any_provider_needs_the_password(redis_server):
    redis_round_trip(redis_server)


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
        redis_round_trip(server, appendfsync="everysec")


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
    with leaves_nothing_behind(LocalMariaDB()) as server:
        mariadb_app_round_trip(server)
        mariadb_refuses_root_and_wrong_passwords_over_tcp(server)
        with contextlib.closing(server._admin_connection()) as conn, conn.cursor() as cur:
            cur.execute("SELECT CURRENT_USER()")
            assert cur.fetchone() == ("root@localhost",)  # by the socket
            cur.execute("SELECT user, host FROM mysql.user")
            accounts = set(cur.fetchall())
        assert {host for user, host in accounts if user == "root"} == {"localhost"}
        assert ("", "localhost") not in accounts  # no anonymous account
        assert (server.user, "%") in accounts
        assert server.layout.socket.parent == server.directory
        assert f"socket={server.layout.socket}" in server.layout.option_file.read_text()
        assert stat.S_IMODE((server.directory / "service.json").stat().st_mode) == 0o600


def test_mariadb_from_any_provider_lets_in_the_app_and_not_root_over_tcp(mariadb_server):
    with contextlib.closing(mariadb_server.connect()) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS any_provider (id INT)")
        cur.execute("DROP TABLE any_provider")
    mariadb_refuses_root_and_wrong_passwords_over_tcp(mariadb_server)


def test_mariadb_data_and_credentials_survive_a_restart(kept_dir):
    mariadb_keeps_its_data(lambda: LocalMariaDB(kept_dir))


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


def test_mariadb_databases_with_awkward_names(mariadb_server):
    name = "t_50%_off's`"
    url = mariadb_server.create_database(name)
    assert parse_url(url, 3306, "").path == name
    try:
        with contextlib.closing(mariadb_server.connect(name)) as conn, conn.cursor() as cur:
            cur.execute("SELECT DATABASE()")
            assert cur.fetchone() == (name,)
    finally:
        mariadb_server.drop_database(name)
    with pytest.raises(MySQLdb.OperationalError, match="denied|Unknown database"):
        mariadb_server.connect(name)


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
