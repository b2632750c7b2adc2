"""What the tests of every kind of server share: directories, a taken port, the checks."""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import MySQLdb
import pytest
import redis

from backing_services import MariaDBService, Service
from backing_services.process import pid_alive


@pytest.fixture
def kept_dir():
    """A directory outliving one server, outside /tmp/pytest-of-root (postgres cannot enter)."""
    path = Path(tempfile.mkdtemp(prefix="minestrone-kept-"))
    path.chmod(0o711)
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def listening_port():
    """A loopback port something already listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@contextlib.contextmanager
def leaves_nothing_behind(server: Service) -> Iterator[Service]:
    """Start a local ``server``; once the block is done, its process and directory are gone."""
    try:
        server.start()
        yield server
        pid, directory = server.pid, server.directory
        assert server.alive()
    finally:
        server.stop()
    assert not pid_alive(pid)
    assert not directory.exists()
    server.stop()  # a second stop does nothing


def mariadb_keeps_its_data(make: Callable[[], MariaDBService]) -> None:
    """What one server of ``make()`` writes, the next one (same directory) reads, same password."""
    with make() as first:
        with contextlib.closing(first.connect()) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (n INT)")
            cur.execute("INSERT INTO kept VALUES (7)")
        password = first.password
    with make() as second:
        assert second.password == password
        with contextlib.closing(second.connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT n FROM kept")
            assert cur.fetchall() == ((7,),)


def mariadb_app_round_trip(server: MariaDBService) -> None:
    """The application's account: a utf8mb4 table of its own, and nothing on the server."""
    with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE soup (name VARCHAR(40))")
        cur.execute("INSERT INTO soup VALUES (%s)", ("minestrone 🍲",))
        cur.execute("SELECT name, @@character_set_database FROM soup")
        assert cur.fetchall() == (("minestrone 🍲", "utf8mb4"),)
        with pytest.raises(MySQLdb.OperationalError, match="denied"):
            cur.execute("CREATE DATABASE elsewhere")


def mariadb_refuses_root_and_wrong_passwords_over_tcp(server: MariaDBService) -> None:
    """root has no way in by TCP, with or without a password; nor the account with a wrong one."""
    for user, password in (("root", ""), ("root", server.password), (server.user, "no")):
        with pytest.raises(MySQLdb.OperationalError, match="denied|not allowed"):
            MySQLdb.connect(
                host=server.host,
                port=server.port,
                user=user,
                password=password,
                connect_timeout=5,
            )


def redis_round_trip(server: Service, appendfsync: str = "always") -> None:
    """SET and GET with the password; without it, or with a wrong one, refused."""
    client = redis.Redis.from_url(server.url)
    assert client.set("soup", "minestrone")
    assert client.get("soup") == b"minestrone"
    config = client.config_get("append*")
    assert (config["appendonly"], config["appendfsync"]) == ("yes", appendfsync)
    for login in ({}, {"password": "not-it"}, {"username": "default", "password": ""}):
        anonymous = redis.Redis(host=server.host, port=server.port, socket_timeout=5, **login)
        with pytest.raises(redis.AuthenticationError):
            anonymous.get("soup")
    client.delete("soup")
