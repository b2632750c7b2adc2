"""A frozen PostgreSQL (every process SIGSTOPped) fails queries and connections in seconds, with
a log line, and serves again once thawed: the app's wait deadline on a real server."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time

import psycopg2
import pytest

from backing_services.postgres import LocalPostgres
from machine.pids import descendants, pid_alive, stopped
from minestrone.deployment import dbwait

MARGIN = 5.0  # seconds of slack on a busy machine


def tree(pid: int) -> list[int]:
    """``pid`` and every process under it."""
    return [pid, *descendants(pid)]


def running(pids: list[int]) -> list[int]:
    """Those of ``pids`` that still exist and are not stopped."""
    return [pid for pid in pids if pid_alive(pid) and not stopped(pid)]


def stop(pids: list[int]) -> None:
    """SIGSTOP each of ``pids`` and wait until each one is stopped (the signal is delivered to
    every thread of a busy process a moment later)."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while running(pids):
        assert time.monotonic() < deadline, f"{running(pids)} did not stop within 10 s"
        time.sleep(0.01)


@contextlib.contextmanager
def frozen(server: LocalPostgres):
    """The server's processes stopped (SIGSTOP) in the block, resumed after it; yields them."""
    pids = tree(server.pid)
    stop(pids)
    try:
        yield pids
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@pytest.fixture
def server():
    with LocalPostgres() as running:
        yield running


def test_a_frozen_server_fails_fast_and_serves_again_once_thawed(server, caplog):
    dbwait.install()
    conn = psycopg2.connect(server.url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")
    with caplog.at_level(logging.ERROR, "minestrone.database"), frozen(server):
        started = time.monotonic()
        with pytest.raises(psycopg2.OperationalError, match="did not answer"), conn.cursor() as c:
            c.execute("SELECT 1")
        assert time.monotonic() - started < dbwait.ANSWER_SECONDS + MARGIN
        assert conn.closed  # psycopg2 closes a connection whose wait failed
        started = time.monotonic()
        with pytest.raises(psycopg2.OperationalError, match="while connecting"):
            psycopg2.connect(server.url)
        assert time.monotonic() - started < dbwait.CONNECT_SECONDS + MARGIN
    assert "frozen or unreachable" in caplog.text
    with contextlib.closing(psycopg2.connect(server.url)) as again, again.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)
