"""The tutorial's story on every pair of database and broker (postgresql or mysql, rabbitmq or
redis), with the app's own commands: migrate_safely, a worker and the camera read an
environment file naming the pair's services; a job sent with the form's routing key is recorded
SUCCESS with that key, the worker recorded, and a running job terminated is recorded REVOKED.
One class per pair, so that the suite's workers run them side by side."""

import contextlib
import json

import psycopg2
import pytest

from minestrone.celery_app import app as celery_app
from minestrone.soup.routing import routing_key_for
from minestrone.soup.tasks import lazy_job

from . import kinds
from .monitor.conftest import wait_until

TASK = "SELECT state, routing_key, worker FROM monitor_taskstate WHERE task_id = %s"
WORKER = "SELECT hostname FROM monitor_workerstate WHERE hostname = %s"


def write_environment(folder, data: dict) -> object:
    path = folder / "environment.json"
    path.write_text(json.dumps(data, indent=4))
    path.chmod(0o600)
    return path


def story(manage, start_worker, row) -> None:
    """The story; ``row(sql, key)`` reads one row of the camera's tables from the database."""
    migrate = manage("migrate_safely")
    assert migrate.process.wait(180) == 0, migrate.log()
    camera = manage("celerycam", "-F", "0.5")
    camera.wait_for_log("Connected to ", timeout=60)
    worker = start_worker("story")
    sent = lazy_job.apply_async(args=["story soup"], routing_key=routing_key_for("kitchen"))
    worker.wait_for_log("Lazy job story soup completed")
    assert wait_until(
        lambda: row(TASK, sent.id) == ("SUCCESS", "tasks.kitchen", "story@integration"),
        timeout=60,
        what="the job recorded SUCCESS",
    )
    assert row(WORKER, "story@integration") == ("story@integration",)
    worker.stop()

    slow = start_worker("slow", env={"SOUP_LAZY_JOB_SECONDS": "60"})
    running = lazy_job.apply_async(args=["slow soup"], routing_key="tasks.slow")
    slow.wait_for_log("Starting the lazy job: slow soup")
    celery_app.control.revoke(running.id, terminate=True, signal="SIGTERM")
    assert wait_until(
        lambda: (row(TASK, running.id) or ("",))[0] == "REVOKED",
        timeout=60,
        what="the terminated job recorded REVOKED",
    )


@pytest.fixture
def mysql_rows(mariadb_server, mariadb_database_url):
    database = kinds.database_name(mariadb_database_url)

    def row(sql: str, key: str):
        with contextlib.closing(mariadb_server.connect(database)) as db, db.cursor() as cursor:
            cursor.execute(sql, [key])
            return cursor.fetchone()

    return row


@pytest.fixture
def postgresql_rows(postgres_server, postgres_database_url):
    def row(sql: str, key: str):
        connection = psycopg2.connect(postgres_database_url)
        with contextlib.closing(connection) as db, db.cursor() as cursor:
            cursor.execute(sql, [key])
            return cursor.fetchone()

    return row


def mysql(mariadb_server, url: str) -> dict:
    return kinds.database_variables("mysql", mariadb_server, kinds.database_name(url))


def postgresql(postgres_server, url: str) -> dict:
    return kinds.database_variables("postgresql", postgres_server, kinds.database_name(url))


def rabbitmq(url: str) -> dict:
    from .conftest import broker_parts

    return broker_parts(url)


@pytest.fixture(scope="class")
def redis_broker(redis_db_url):
    """The module's Redis database; the Celery app here points at it for the class."""
    with kinds.celery_on(redis_db_url):
        yield redis_db_url


@pytest.fixture(scope="class")
def rabbitmq_broker(rabbitmq_vhost_url):
    """The module's RabbitMQ vhost; the Celery app here points at it for the class."""
    with kinds.celery_on(rabbitmq_vhost_url):
        yield rabbitmq_vhost_url


class TestMariaDBAndRedis:
    @pytest.fixture
    def broker_url(self, redis_broker):
        return redis_broker

    @pytest.fixture
    def environment_file(self, tmp_path, mariadb_server, mariadb_database_url, broker_url):
        data = mysql(mariadb_server, mariadb_database_url) | kinds.redis_variables(broker_url)
        return write_environment(tmp_path, data)

    def test_the_story(self, manage, start_worker, mysql_rows):
        story(manage, start_worker, mysql_rows)


class TestMariaDBAndRabbitMQ:
    @pytest.fixture
    def broker_url(self, rabbitmq_broker):
        return rabbitmq_broker

    @pytest.fixture
    def environment_file(self, tmp_path, mariadb_server, mariadb_database_url, broker_url):
        data = mysql(mariadb_server, mariadb_database_url) | rabbitmq(broker_url)
        return write_environment(tmp_path, data)

    def test_the_story(self, manage, start_worker, mysql_rows):
        story(manage, start_worker, mysql_rows)


class TestPostgreSQLAndRedis:
    @pytest.fixture
    def broker_url(self, redis_broker):
        return redis_broker

    @pytest.fixture
    def environment_file(self, tmp_path, postgres_server, postgres_database_url, broker_url):
        data = postgresql(postgres_server, postgres_database_url)
        return write_environment(tmp_path, data | kinds.redis_variables(broker_url))

    def test_the_story(self, manage, start_worker, postgresql_rows):
        story(manage, start_worker, postgresql_rows)


class TestPostgreSQLAndRabbitMQ:
    @pytest.fixture
    def broker_url(self, rabbitmq_broker):
        return rabbitmq_broker

    @pytest.fixture
    def environment_file(self, tmp_path, postgres_server, postgres_database_url, broker_url):
        data = postgresql(postgres_server, postgres_database_url) | rabbitmq(broker_url)
        return write_environment(tmp_path, data)

    def test_the_story(self, manage, start_worker, postgresql_rows):
        story(manage, start_worker, postgresql_rows)
