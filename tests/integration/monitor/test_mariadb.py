"""The monitor on a real MariaDB: the migrations, the camera's upsert and its merge rules, the
hourly summaries and their locks, percentiles, histograms, metrics, the admin's search; and
migrate_safely's lock and the statement deadline, MariaDB's equivalents of PostgreSQL's."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import MySQLdb
import pytest
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minestrone import platform_env
from minestrone.deployment.database import MIGRATION_LOCK_NAME
from minestrone.monitor import charts, metrics, queue_wait, rollup
from minestrone.monitor.models import (
    QueueSample,
    SummarisedHour,
    TaskEvent,
    TaskState,
    WorkerState,
)
from minestrone.monitor.states import progress
from minestrone.monitor.store import DatabaseStore
from tests.integration.monitor import sql_checks
from tests.integration.monitor.mariadb import REDIS_BROKER, app_database, default_database
from tests.pace import quick, within
from tests.unit.monitor import test_expiry, test_merge_sequences

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
NO_BROKER = {"MINESTRONE_BROKER_URL": "memory://"}


@pytest.fixture(scope="module")
def mariadb(mariadb_server, mariadb_database_url, django_db_blocker, tmp_path_factory):
    """Django's default database is a migrated MariaDB database for this module."""
    folder = tmp_path_factory.mktemp("mariadb-env")
    settings, path = app_database(mariadb_server, mariadb_database_url, folder, REDIS_BROKER)
    with django_db_blocker.unblock(), default_database(settings):
        yield path


@pytest.fixture(autouse=True)
def empty_tables(mariadb):
    yield
    for model in (TaskState, TaskEvent, WorkerState, SummarisedHour, QueueSample):
        model.objects.all().delete()


def finished_row(task_id, when, state="SUCCESS", runtime=0.5, name="app.add"):
    return {
        "task_id": task_id,
        "state": state,
        "progress": progress(state, when.timestamp()),
        "tstamp": when,
        "name": name,
        "runtime": runtime if state == "SUCCESS" else None,
        "worker": "w1",
    }


class Snapshot:
    """What the camera hands the store: tasks by id, no worker, no event."""

    def __init__(self, *rows):
        self.tasks = {row["task_id"]: row for row in rows}
        self.workers = {}
        self.events = []


def test_every_migration_is_applied_on_mariadb():
    assert connection.vendor == "mysql"
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@max_statement_time, @@character_set_connection")
        assert cursor.fetchone() == (10.0, "utf8mb4")


@pytest.mark.parametrize("scenario", test_merge_sequences.SCENARIOS)
def test_merge_rules_on_mariadb(scenario):
    sql_checks.check_merge_scenario(scenario)


def test_a_snapshot_of_1200_tasks_is_a_few_statements_and_utf8_survives():
    rows = [
        {"task_id": f"t{n}", "state": "SUCCESS", "tstamp": test_expiry.NOW, "progress": 9}
        for n in range(1200)
    ]
    rows[0]["args"] = "['soupe à l’oignon 🍲']"
    with CaptureQueriesContext(connection) as queries:
        TaskState.objects.record(rows)
    assert len(queries) <= 4
    assert TaskState.objects.count() == 1200
    assert TaskState.objects.get(pk="t0").args == "['soupe à l’oignon 🍲']"


def test_expiry_on_mariadb():
    for n in range(7):
        test_expiry.add_task(f"old{n}", "SUCCESS", test_expiry.NOW - timedelta(days=2))
    test_expiry.add_task("young", "SUCCESS", test_expiry.NOW)
    deleted = TaskState.objects.expire(
        test_expiry.NOW, success=timedelta(days=1), errors=None, unfinished=None, batch_size=3
    )
    assert deleted == 7
    assert list(TaskState.objects.values_list("pk", flat=True)) == ["young"]


@pytest.fixture
def day_of_tasks():
    now = timezone.now()
    rows = []
    for n in range(1500):
        state = ("SUCCESS", "FAILURE", "STARTED")[n % 3]
        when = now - timedelta(minutes=n % 1440)
        row = finished_row(f"t{n}", when, state, (n % 100) / 10, f"app.task{n % 5}")
        row["worker"] = f"w{n % 3}"
        rows.append(row)
    TaskState.objects.record(rows)
    return now


@pytest.mark.parametrize("window_name", ["hour", "day"])
def test_percentiles_on_mariadb_match_the_exact_ones(day_of_tasks, window_name):
    sql_checks.check_percentiles(day_of_tasks, window_name)


def test_mariadb_puts_runtimes_in_the_buckets_python_does(day_of_tasks):
    sql_checks.check_runtime_buckets()


def test_the_days_counts_from_summaries_match_every_tasks(day_of_tasks):
    window = charts.WINDOWS["day"]
    counts = charts.period_counts(window, day_of_tasks)
    assert SummarisedHour.objects.count() == len(charts._settled(window, day_of_tasks)) > 20
    assert counts["state"] == charts.per_period(window, day_of_tasks, "state")


def test_metrics_and_queue_waits_on_mariadb(day_of_tasks):
    waited = []
    for n, wait in enumerate((0.5, 1.5, 2.5)):
        row = finished_row(f"w{n}", day_of_tasks, name="app.wait")
        row["sent"] = day_of_tasks - timedelta(seconds=10)
        row["started"] = row["sent"] + timedelta(seconds=wait)
        waited.append(row)
    TaskState.objects.record(waited)
    text = metrics.render(day_of_tasks).decode()
    assert 'minestrone_tasks{name="app.task0",state="SUCCESS"}' in text
    assert 'minestrone_task_runtime_seconds_bucket{le="+Inf",name="app.task0"}' in text
    since = day_of_tasks - timedelta(minutes=5)
    [stat] = queue_wait.percentiles(since, day_of_tasks + timedelta(seconds=1))
    assert (stat.name, stat.count, stat.p50) == ("app.wait", 3, pytest.approx(1.5))
    assert queue_wait.histogram_by_name(since, (1.0, 2.0))["app.wait"][:3] == [1, 2, 3]


def test_an_hour_summed_up_by_four_at_once_is_counted_once(day_of_tasks):
    sql_checks.check_summed_up_once_by_four(charts._settled(charts.WINDOWS["day"], day_of_tasks)[0])


def test_a_late_write_into_a_summed_hour_is_counted_again():
    hour = rollup.hour_of(timezone.now()) - 3 * rollup.HOUR
    store = DatabaseStore()
    store.record(Snapshot(*(finished_row(f"t{n}", hour + timedelta(minutes=n)) for n in range(4))))
    assert sum(tasks for *_, tasks in rollup.counts([hour])) == 4
    store.record(Snapshot(finished_row("late", hour + timedelta(minutes=30))))
    assert not SummarisedHour.objects.filter(hour=hour).exists()  # forgotten, under its lock
    assert sum(tasks for *_, tasks in rollup.counts([hour])) == 5


def test_an_hour_held_by_one_session_waits_for_it():
    hour = rollup.hour_of(timezone.now()) - 3 * rollup.HOUR
    taken, release, done = threading.Event(), threading.Event(), threading.Event()

    def holder():
        try:
            with rollup.hours_held([hour]):
                taken.set()
                release.wait(10)
        finally:
            connection.close()

    def forgetter():
        try:
            rollup.forget([hour + timedelta(minutes=1)])
            done.set()
        finally:
            connection.close()

    first = threading.Thread(target=holder)
    first.start()
    assert taken.wait(10)
    second = threading.Thread(target=forgetter)
    second.start()
    assert not done.wait(1.0)  # waits for the hour's lock
    release.set()
    assert done.wait(10)
    first.join()
    second.join()


def test_the_admin_pages_search_and_filters_on_mariadb(transactional_db, client, django_user_model):
    # committed rows (as the camera's are): InnoDB's FULLTEXT index, which the word search
    # reads, holds a row from its commit on, even for the transaction writing it
    TaskState.objects.record(
        [
            finished_row("needle-1", test_expiry.NOW, name="app.soup"),
            finished_row("hay", test_expiry.NOW - timedelta(days=40), "FAILURE"),
        ]
    )
    WorkerState.objects.record([{"hostname": "w1@kitchen", "last_heartbeat": test_expiry.NOW}])
    assert TaskState.objects.distinct_values("name") == ["app.add", "app.soup"]
    user = django_user_model.objects.create_superuser("boss", "b@example.com", "x" * 20)
    client.force_login(user)
    try:
        page = client.get("/admin/monitor/taskstate/", {"q": "SOUP"})
        assert page.status_code == 200
        assert b"/taskstate/needle-1/" in page.content
        assert b"/taskstate/hay/" not in page.content
        failed = client.get("/admin/monitor/taskstate/", {"state__exact": "FAILURE"})
        assert b"/taskstate/hay/" in failed.content
        assert b"/taskstate/needle-1/" not in failed.content
        assert client.get("/admin/monitor/taskstate/needle-1/change/").status_code == 200
        assert b"w1@kitchen" in client.get("/admin/monitor/workerstate/").content
        assert client.get("/monitor/").status_code == 200  # the dashboard
        assert b"minestrone_tasks" in client.get("/monitor/metrics").content
    finally:
        django_user_model.objects.all().delete()


def test_a_statement_over_the_deadline_is_stopped_by_mariadb(mariadb_server):
    options = platform_env.mysql_options(1)
    db = MySQLdb.connect(
        host=mariadb_server.host,
        port=mariadb_server.port,
        user=mariadb_server.user,
        password=mariadb_server.password,
        **options,
    )
    try:
        started = time.monotonic()
        with pytest.raises(MySQLdb.OperationalError, match="max_statement_time"):
            db.cursor().execute("SELECT SLEEP(30) FROM (SELECT 1 UNION SELECT 2) AS two")
        assert time.monotonic() - started < quick(4, timeout=60)  # not the statement's 60 s
    finally:
        db.close()


def test_migrate_safely_waits_for_the_migration_lock(mariadb, mariadb_server):
    holder = mariadb_server.connect()
    cursor = holder.cursor()
    cursor.execute("SELECT GET_LOCK(%s, 0)", [MIGRATION_LOCK_NAME])
    assert cursor.fetchone() == (1,)
    env = {**os.environ, "MINESTRONE_ENV_FILE": str(mariadb), "PYTHONPATH": ROOT}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    migrate = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "minestrone", "manage.py"), "migrate_safely"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(3)
        assert migrate.poll() is None  # waiting for the lock another instance holds
        cursor.execute("SELECT RELEASE_LOCK(%s)", [MIGRATION_LOCK_NAME])
        output, _ = migrate.communicate(timeout=120)
        assert migrate.returncode == 0, output
        assert "No migrations to apply" in output
    finally:
        if migrate.poll() is None:
            migrate.kill()
            migrate.wait()
        holder.close()


def test_a_lock_wait_longer_than_the_deadline_fails_in_seconds_not_forever():
    hour = rollup.hour_of(timezone.now()) - 5 * rollup.HOUR
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT GET_LOCK(%s, 0)", [rollup.LOCK_NAME.format(int(hour.timestamp()) // 3600)]
            )
        started = time.monotonic()
        with pytest.raises(OperationalError):
            rollup.forget([hour + timedelta(minutes=1)])
        assert time.monotonic() - started < within(15)
    finally:
        other.close()
