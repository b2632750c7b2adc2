"""A frozen MariaDB (SIGSTOPped) fails queries and connections in seconds with the app's client
options (``read_timeout``, ``connect_timeout``), and serves again once thawed: MariaDB's
equivalent of dbwait's deadline for PostgreSQL."""

from __future__ import annotations

import contextlib
import time

import MySQLdb
import pytest

from backing_services.mariadb import LocalMariaDB
from minestrone import platform_env
from minestrone.deployment import dbwait
from tests.integration.test_frozen_database import MARGIN, frozen, running, stop

THAWED_RETRIES = 2  # a frozen server resumed from outside: stopped and asked again


@pytest.fixture
def server():
    with LocalMariaDB() as started:
        yield started


def connect(server):
    return MySQLdb.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database=server.database,
        **platform_env.mysql_options(),
    )


def query_while_frozen(cursor, pids: list[int]) -> float:
    """Run a query on the frozen server: the seconds until it failed with "Lost connection".
    Something outside the test resumed the frozen server twice in about eight full runs (the
    server answered); then the query's answer proves nothing, and it is stopped and asked again
    (at most ``THAWED_RETRIES`` times). An answer while every process is stopped fails."""
    for _ in range(THAWED_RETRIES + 1):
        started = time.monotonic()
        try:
            cursor.execute("SELECT 1")
        except MySQLdb.OperationalError as error:
            assert "Lost connection" in str(error), error
            return time.monotonic() - started
        resumed = running(pids)
        assert resumed, "the server answered while every one of its processes was stopped"
        stop(resumed)
    pytest.fail(f"the frozen server was resumed from outside {THAWED_RETRIES + 1} times")


def test_a_frozen_server_fails_fast_and_serves_again_once_thawed(server):
    conn = connect(server)
    cursor = conn.cursor()
    cursor.execute("SELECT 1")
    with frozen(server) as pids:
        assert query_while_frozen(cursor, pids) < dbwait.ANSWER_SECONDS + MARGIN
        started = time.monotonic()
        with pytest.raises(MySQLdb.OperationalError, match="handshake"):
            connect(server)
        assert time.monotonic() - started < platform_env.CONNECT_TIMEOUT_SECONDS + MARGIN
    with contextlib.closing(connect(server)) as again, again.cursor() as thawed:
        thawed.execute("SELECT 2")
        assert thawed.fetchone() == (2,)
