"""The tutorial's story on the other pair, MariaDB and Redis, with the app's own commands:
migrate_safely, a worker and the camera read an environment file with a `mysql` and a `redis`
service; a job sent with the form's routing key is recorded SUCCESS with that key, the worker
ONLINE, and a running job terminated is recorded REVOKED."""

import contextlib
import json

import pytest

from minestrone.celery_app import app as celery_app
from minestrone.soup.routing import routing_key_for
from minestrone.soup.tasks import lazy_job

from . import kinds
from .monitor.conftest import wait_until


@pytest.fixture(scope="module")
def broker_url(redis_db_url):
    """A Redis database of its own for the module; the Celery app here points at it."""
    with kinds.celery_on_redis(redis_db_url):
        yield redis_db_url


@pytest.fixture
def environment_file(tmp_path, mariadb_server, mariadb_database_url, broker_url):
    """The platform's environment.json: a `mysql` service and a `redis` service."""
    database = kinds.database_name(mariadb_database_url)
    data = kinds.mysql_variables(mariadb_server, database) | kinds.redis_variables(broker_url)
    path = tmp_path / "environment.json"
    path.write_text(json.dumps(data, indent=4))
    path.chmod(0o600)
    return path


@pytest.fixture
def recorded(mariadb_server, mariadb_database_url):
    """Read the camera's rows straight from MariaDB: (state, routing key) of a task."""
    database = kinds.database_name(mariadb_database_url)

    def row(table: str, column: str, key: str, columns: str):
        with contextlib.closing(mariadb_server.connect(database)) as db, db.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {table} WHERE {column} = %s", [key])  # noqa: S608
            return cursor.fetchone()

    return row


def test_the_story_on_mariadb_and_redis(manage, start_worker, recorded):
    migrate = manage("migrate_safely")
    assert migrate.process.wait(180) == 0, migrate.log()
    camera = manage("celerycam", "-F", "0.5")
    camera.wait_for_log("Connected to redis://", timeout=60)
    worker = start_worker("story")
    sent = lazy_job.apply_async(args=["story soup"], routing_key=routing_key_for("kitchen"))
    worker.wait_for_log("Lazy job story soup completed")

    def task(task_id):
        return recorded("monitor_taskstate", "task_id", task_id, "state, routing_key, worker")

    assert wait_until(
        lambda: task(sent.id) == ("SUCCESS", "tasks.kitchen", "story@integration"),
        timeout=60,
        what="the job recorded SUCCESS",
    )
    worker_row = recorded("monitor_workerstate", "hostname", "story@integration", "hostname")
    assert worker_row == ("story@integration",)
    worker.stop()

    slow = start_worker("slow", env={"SOUP_LAZY_JOB_SECONDS": "60"})
    running = lazy_job.apply_async(args=["slow soup"], routing_key="tasks.slow")
    slow.wait_for_log("Starting the lazy job: slow soup")
    celery_app.control.revoke(running.id, terminate=True, signal="SIGTERM")
    assert wait_until(
        lambda: (task(running.id) or ("",))[0] == "REVOKED",
        timeout=60,
        what="the terminated job recorded REVOKED",
    )
