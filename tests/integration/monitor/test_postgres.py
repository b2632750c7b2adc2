"""The monitor's SQL on PostgreSQL: merge rules, bounded expiry, index lookups; and a camera
that keeps its snapshots while its database does not exist yet."""

import json
import secrets
from contextlib import closing

import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minestrone.monitor.models import TaskState
from minestrone.monitor.store import DatabaseStore
from tests.integration.monitor import sql_checks
from tests.integration.monitor.conftest import send, wait_until
from tests.pace import within
from tests.unit.monitor import test_expiry, test_merge_sequences

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_database_is_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("scenario", test_merge_sequences.SCENARIOS)
def test_merge_rules_on_postgresql(scenario):
    sql_checks.check_merge_scenario(scenario)


def test_a_snapshot_of_1200_tasks_is_three_statements():
    rows = [
        {"task_id": f"t{n}", "state": "SUCCESS", "tstamp": test_expiry.NOW, "progress": 9}
        for n in range(1200)
    ]
    with CaptureQueriesContext(connection) as queries:
        TaskState.objects.record(rows)
    assert len(queries) == 3
    assert TaskState.objects.count() == 1200


def test_expiry_in_bounded_batches_on_postgresql():
    for n in range(7):
        test_expiry.add_task(f"old{n}", "SUCCESS", test_expiry.NOW - test_expiry.timedelta(days=2))
    test_expiry.add_task("young", "SUCCESS", test_expiry.NOW)
    with CaptureQueriesContext(connection) as queries:
        deleted = TaskState.objects.expire(
            test_expiry.NOW,
            success=test_expiry.timedelta(days=1),
            errors=None,
            unfinished=None,
            batch_size=3,
        )
    assert deleted == 7
    assert sum(q["sql"].startswith("DELETE") for q in queries.captured_queries) == 3
    assert list(TaskState.objects.values_list("task_id", flat=True)) == ["young"]
    assert DatabaseStore().cleanup(test_expiry.NOW).tasks == 0


def test_distinct_values_on_postgresql():
    for n, name in enumerate(["b", "a", None, "b"]):
        test_expiry.add_task(f"t{n}", "SUCCESS", test_expiry.NOW)
        TaskState.objects.filter(pk=f"t{n}").update(name=name)
    assert TaskState.objects.distinct_values("name") == ["a", "b"]


def test_the_camera_keeps_its_snapshots_until_the_database_exists(
    manage, monitored_worker, postgres_server, environment_file, tmp_path
):
    name = f"late_{secrets.token_hex(4)}"
    late_file = tmp_path / "late-environment.json"
    late_file.write_text(
        json.dumps({**json.loads(environment_file.read_text()), "DJANGO_DB_NAME": name})
    )
    late = {"MINESTRONE_ENV_FILE": str(late_file)}
    camera = manage("celerycam", "-F", "0.5", env=late)
    camera.wait_for_log("Connected to amqp://", timeout=60)
    worker = monitored_worker("late")
    ids = [send("add", n, 1) for n in range(5)]
    wait_until(lambda: worker.log().count("succeeded in") >= 5, what="5 tasks run")
    camera.wait_for_log("kept for the next snapshot")
    try:
        postgres_server.create_database(name)
        migrate = manage("migrate", "--no-input", env=late)
        assert migrate.process.wait(120) == 0, migrate.log()

        def recorded():
            url = postgres_server.database_url(name)
            with closing(psycopg2.connect(url)) as db, db.cursor() as cursor:
                cursor.execute(
                    "SELECT task_id, state FROM monitor_taskstate WHERE task_id = ANY(%s)", [ids]
                )
                return dict(cursor.fetchall())

        wait_until(
            lambda: recorded() == dict.fromkeys(ids, "SUCCESS"),
            timeout=within(60),
            what="the kept tasks",
        )
        assert camera.process.poll() is None  # it kept running throughout
    finally:
        camera.stop()
        postgres_server.drop_database(name)
