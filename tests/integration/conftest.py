"""Integration fixtures: Django on the real PostgreSQL, Celery on a real RabbitMQ vhost, and
`manage.py` subprocesses (workers, camera) configured through a real environment file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from minestrone import queues
from minestrone.celery_app import app as celery_app
from tests.pace import within

ROOT = Path(__file__).resolve().parents[2]
TEST_DATABASE = "test_minestrone"


def pytest_collection_modifyitems(items):
    """Every test under tests/integration is an integration test."""
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres_server) -> None:
    """Point Django at the session's PostgreSQL; pytest-django creates `test_minestrone`."""
    from django.conf import settings
    from django.db import connections

    database = settings.DATABASES["default"]
    database.update(
        ENGINE="django.db.backends.postgresql",
        NAME="minestrone",
        USER=postgres_server.user,
        PASSWORD=postgres_server.password,
        HOST=postgres_server.host,
        PORT=postgres_server.port,
        CONN_MAX_AGE=0,
    )
    database.setdefault("TEST", {})["NAME"] = TEST_DATABASE
    # django.setup() (and collecting modules that touch `connection`) already built a SQLite
    # wrapper for "default"; drop it so that the next use builds a PostgreSQL one.
    connections.close_all()
    with contextlib.suppress(AttributeError):
        del connections["default"]


def broker_parts(url: str) -> dict[str, str]:
    """Split an amqp:// URL into the CloudAMQP variables the settings read."""
    parts = urlsplit(url)
    vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
    return {
        "CLOUDAMQP_RABBITMQ_AMQP_HOST": parts.hostname or "127.0.0.1",
        "CLOUDAMQP_RABBITMQ_AMQP_PORT": str(parts.port or 5672),
        "CLOUDAMQP_RABBITMQ_AMQP_LOGIN": unquote(parts.username or ""),
        "CLOUDAMQP_RABBITMQ_AMQP_PASSWORD": unquote(parts.password or ""),
        "CLOUDAMQP_RABBITMQ_AMQP_VIRTUALHOST": vhost,
    }


def point_celery_at(url: str) -> None:
    """Make the project's Celery app (in this process) use the broker at url, with the queues
    the workers declare for that kind of broker."""
    from django.conf import settings

    celery_app.conf.broker_url = url
    celery_app.conf.task_queues = queues.task_queues(url, settings.MINESTRONE_DELIVERY_LIMIT)
    celery_app.conf.task_default_queue = queues.default_queue_name(url)
    for built in ("queues", "default_queue", "router", "send_task_message"):
        celery_app.amqp.__dict__.pop(built, None)
    celery_app.conf.broker_transport_options = {"confirm_publish": True}
    celery_app.conf.broker_connection_timeout = 2
    pool = celery_app._pool
    if pool is not None:
        pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(scope="module")
def broker_url(rabbitmq_vhost_url) -> Iterator[str]:
    """A fresh RabbitMQ vhost for the module; the Celery app in this process points at it."""
    previous = celery_app.conf.broker_url
    point_celery_at(rabbitmq_vhost_url)
    yield rabbitmq_vhost_url
    point_celery_at(previous)


@pytest.fixture
def channel(broker_url):
    """A channel to the module's broker, the app's queues declared and empty."""
    with celery_app.connection_for_write() as connection:
        channel = connection.channel()
        for queue in celery_app.conf.task_queues:
            queue(channel).declare()
            channel.queue_purge(queue.name)
        yield channel
        channel.close()


def drain(channel, queue_name: str) -> list:
    """Every message waiting in the queue, taken without acknowledgement."""
    messages = []
    while (message := channel.basic_get(queue_name, no_ack=True)) is not None:
        messages.append(message)
    return messages


@pytest.fixture
def environment_file(tmp_path, postgres_server, broker_url) -> Path:
    """The platform's environment.json for subprocesses: the test database and the vhost."""
    data = {
        "DOTCLOUD_PROJECT": "minestrone",
        "DOTCLOUD_ENVIRONMENT": "default",
        "DOTCLOUD_SERVICE_NAME": "workers",
        "DOTCLOUD_SERVICE_ID": "0",
        "DOTCLOUD_DB_SQL_LOGIN": postgres_server.user,
        "DOTCLOUD_DB_SQL_PASSWORD": postgres_server.password,
        "DOTCLOUD_DB_SQL_HOST": postgres_server.host,
        "DOTCLOUD_DB_SQL_PORT": str(postgres_server.port),
        "DJANGO_DB_NAME": TEST_DATABASE,
        "DJANGO_SECRET_KEY": "integration-tests-only-" + "x" * 40,
        **broker_parts(broker_url),
    }
    path = tmp_path / "environment.json"
    path.write_text(json.dumps(data, indent=4))
    path.chmod(0o600)
    return path


@dataclass
class ManagedProcess:
    """A `manage.py` subprocess in its own process group, with its output in a log file."""

    args: list[str]
    process: subprocess.Popen
    log_path: Path
    extra_env: dict = field(default_factory=dict)

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float | None = None) -> str:
        """Wait until text appears in the log (by default for 30 s at the machine's pace);
        fail with the log when it does not."""
        timeout = within(30) if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if text in log:
                return log
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(
            f"{text!r} did not appear within {timeout}s in the output of "
            f"{' '.join(self.args)} (exit status {self.process.poll()}):\n{self.log()[-4000:]}"
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal the process group, wait, and kill it if it outlives the timeout."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        # the group may still hold children (pool processes): leave none behind
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.returncode


@pytest.fixture
def manage(environment_file, tmp_path) -> Iterator[Callable[..., ManagedProcess]]:
    """Start `python minestrone/manage.py ARGS…` bound to the test servers; stopped at teardown."""
    started: list[ManagedProcess] = []

    def start(*args: str, env: dict | None = None) -> ManagedProcess:
        log_path = tmp_path / f"manage-{len(started)}-{args[0]}.log"
        environ = {
            **os.environ,
            "MINESTRONE_ENV_FILE": str(environment_file),
            "PYTHONUNBUFFERED": "1",
            "SOUP_LAZY_JOB_SECONDS": "0.5",
            **(env or {}),
        }
        environ.pop("DJANGO_SETTINGS_MODULE", None)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "minestrone" / "manage.py"), *args],
                cwd=tmp_path,  # whatever it writes where it runs stays out of the repository
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        managed = ManagedProcess(list(args), process, log_path, env or {})
        started.append(managed)
        return managed

    yield start
    for managed in reversed(started):
        managed.stop()


def wait_for_workers(hostnames: list[str], timeout: float | None = None) -> None:
    """Wait until every named worker answers a ping through the broker (by default for 60 s
    at the machine's pace)."""
    timeout = within(60) if timeout is None else timeout
    deadline = time.monotonic() + timeout
    answered: set[str] = set()
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(timeout=0.5) or []
        answered = {name for reply in replies for name in reply}
        if set(hostnames) <= answered:
            return
    pytest.fail(f"workers {hostnames} did not answer within {timeout}s (answered: {answered})")


@pytest.fixture
def start_worker(manage) -> Callable[..., ManagedProcess]:
    """Start a worker with the supervisor program's command and wait until it answers."""

    def start(name: str = "w1", *extra: str, env: dict | None = None) -> ManagedProcess:
        hostname = f"{name}@integration"
        worker = manage("celeryd", "-E", "-l", "info", "-c", "2", "-n", hostname, *extra, env=env)
        wait_for_workers([hostname])
        return worker

    return start
