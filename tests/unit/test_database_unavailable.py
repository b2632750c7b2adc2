"""A database that does not answer: the wait deadline, the 503, the timeouts in the settings."""

import contextlib
import logging
import os
import resource
import socket
import time

import psycopg2
import pytest
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from psycopg2 import extensions

from minestrone import platform_env
from minestrone.deployment import dbwait
from minestrone.deployment.unavailable import DatabaseUnavailableMiddleware


class FakeConnection:
    """A psycopg2 connection whose server stays silent, or answers after ``polls`` polls."""

    def __init__(self, status: int, polls: int | None = None) -> None:
        self.status = status
        self.polls = polls
        self.mine, self.server = socket.socketpair()

    def fileno(self) -> int:
        return self.mine.fileno()

    def poll(self) -> int:
        if self.polls is not None:
            self.mine.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                self.mine.recv(16)  # read what the server said, as libpq would
            self.polls -= 1
            if self.polls <= 0:
                return extensions.POLL_OK
            self.server.send(b"x")  # the server says something: the wait goes on
        return extensions.POLL_READ

    def close(self) -> None:
        self.mine.close()
        self.server.close()


@pytest.fixture
def silent():
    conn = FakeConnection(extensions.STATUS_READY)
    yield conn
    conn.close()


def test_a_silent_server_fails_the_wait_with_a_log_line(silent, caplog):
    started = time.monotonic()
    with (
        caplog.at_level(logging.ERROR, "minestrone.database"),
        pytest.raises(
            psycopg2.OperationalError, match="did not answer for 0.2 s while waiting for an answer"
        ),
    ):
        dbwait.wait(silent, connect_seconds=5, answer_seconds=0.2)
    assert 0.2 <= time.monotonic() - started < 2
    assert "frozen or unreachable" in caplog.text


def test_connecting_has_its_own_deadline():
    conn = FakeConnection(extensions.STATUS_SETUP)
    try:
        with pytest.raises(psycopg2.OperationalError, match="0.1 s while connecting"):
            dbwait.wait(conn, connect_seconds=0.1, answer_seconds=60)
    finally:
        conn.close()


def test_a_server_that_keeps_answering_is_waited_for():
    conn = FakeConnection(extensions.STATUS_READY, polls=5)
    try:
        dbwait.wait(conn, connect_seconds=0.1, answer_seconds=0.5)
        assert conn.polls == 0
    finally:
        conn.close()


class HighConnection(FakeConnection):
    """The same, on a file descriptor above 1023, as in a process with many open files."""

    def __init__(self, status: int, polls: int | None = None) -> None:
        super().__init__(status, polls)
        self.high = os.dup2(self.mine.fileno(), HIGH_FD)

    def fileno(self) -> int:
        return self.high

    def close(self) -> None:
        os.close(self.high)
        super().close()


HIGH_FD = 1500


@pytest.fixture
def many_files_allowed():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= HIGH_FD:
        resource.setrlimit(resource.RLIMIT_NOFILE, (HIGH_FD + 1, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_descriptor_above_1023_is_waited_for_and_timed_out(many_files_allowed):
    # select.select() refuses descriptors of 1024 and above (ValueError)
    conn = HighConnection(extensions.STATUS_READY, polls=3)
    try:
        dbwait.wait(conn, connect_seconds=0.1, answer_seconds=0.5)
        assert conn.polls == 0
    finally:
        conn.close()
    conn = HighConnection(extensions.STATUS_READY)
    try:
        with pytest.raises(psycopg2.OperationalError, match="did not answer for 0.1 s"):
            dbwait.wait(conn, connect_seconds=5, answer_seconds=0.1)
    finally:
        conn.close()


def test_the_callback_is_installed_and_can_be_removed():
    dbwait.install()
    assert extensions.get_wait_callback() is dbwait.wait
    dbwait.uninstall()
    assert extensions.get_wait_callback() is None
    dbwait.install()


def view_raising(error):
    def view(request):
        raise error

    return view


def test_a_database_error_is_a_503_with_retry_after_and_a_log_line(caplog):
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse("ok"))
    request = RequestFactory().get("/admin/monitor/taskstate/")
    with caplog.at_level(logging.ERROR, "minestrone.database"):
        response = middleware.process_exception(request, OperationalError("did not answer\nmore"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert b"database is not answering" in response.content
    assert "GET /admin/monitor/taskstate/ answered 503 (did not answer)" in caplog.text
    assert middleware.process_exception(request, ValueError("x")) is None


def test_the_middleware_answers_503_through_django(client, monkeypatch):
    from minestrone.soup import views

    def broken(*args, **kwargs):
        raise OperationalError("PostgreSQL did not answer for 12 s")

    monkeypatch.setattr(views.EditorView, "get", broken)
    response = client.get("/")
    assert response.status_code == 503


def test_settings_carry_a_connect_and_a_statement_timeout(tmp_path):
    path = tmp_path / "environment.json"
    path.write_text(
        '{"DOTCLOUD_DB_SQL_LOGIN": "root", "DOTCLOUD_DB_SQL_PASSWORD": "pw", '
        '"DOTCLOUD_DB_SQL_HOST": "db", "DOTCLOUD_DB_SQL_PORT": "5432", '
        '"CLOUDAMQP_RABBITMQ_AMQP_HOST": "mq", "CLOUDAMQP_RABBITMQ_AMQP_PORT": "5672", '
        '"CLOUDAMQP_RABBITMQ_AMQP_LOGIN": "u", "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD": "p", '
        '"CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST": "v", '
        '"DJANGO_SECRET_KEY": "' + "integration-only-secret-key-" + "k0" * 20 + '"}'
    )
    options = platform_env.platform_settings(path, {}).database["OPTIONS"]
    assert options["connect_timeout"] == platform_env.CONNECT_TIMEOUT_SECONDS
    assert options["options"] == f"-c statement_timeout={platform_env.STATEMENT_TIMEOUT_MS}"
    assert platform_env.STATEMENT_TIMEOUT_MS / 1000 < dbwait.ANSWER_SECONDS
