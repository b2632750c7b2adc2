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
from tests.integration.test_frozen_database import MARGIN, frozen


@pytest.fixture
def server():
    with LocalMariaDB() as running:
        yield running


def connect(server):
    return MySQLdb.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database=server.database,
        **platform_env.mysql_options(),
    )


def test_a_frozen_server_fails_fast_and_serves_again_once_thawed(server):
    conn = connect(server)
    cursor = conn.cursor()
    cursor.execute("SELECT 1")
    with frozen(server):
        started = time.monotonic()
        with pytest.raises(MySQLdb.OperationalError, match="Lost connection"):
            cursor.execute("SELECT 1")
        assert time.monotonic() - started < dbwait.ANSWER_SECONDS + MARGIN
        started = time.monotonic()
        with pytest.raises(MySQLdb.OperationalError, match="handshake"):
            connect(server)
        assert time.monotonic() - started < platform_env.CONNECT_TIMEOUT_SECONDS + MARGIN
    with contextlib.closing(connect(server)) as again, again.cursor() as thawed:
        thawed.execute("SELECT 2")
        assert thawed.fetchone() == (2,)
