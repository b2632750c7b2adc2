"""The cleanup: tasks expire by state, in bounded batches; long-offline workers are purged."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from minestrone.monitor.models import TaskState, WorkerState
from minestrone.monitor.states import progress
from minestrone.monitor.store import DatabaseStore

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def add_task(task_id, state, when):
    TaskState.objects.record(
        [
            {
                "task_id": task_id,
                "state": state,
                "tstamp": when,
                "progress": progress(state, when.timestamp()),
            }
        ]
    )


@pytest.mark.parametrize(
    ("state", "days"),
    [
        ("SUCCESS", 1),
        ("FAILURE", 3),
        ("RETRY", 3),
        ("REVOKED", 3),
        ("PENDING", 5),
        ("RECEIVED", 5),
        ("STARTED", 5),
        ("REJECTED", 5),
        ("PROGRESS", 5),  # a custom state counts as unfinished
    ],
)
def test_default_expiry_by_state(state, days):
    add_task("old", state, NOW - timedelta(days=days) - MINUTE)
    add_task("young", state, NOW - timedelta(days=days) + MINUTE)
    done = DatabaseStore().cleanup(NOW)
    assert done.tasks == 1
    assert list(TaskState.objects.values_list("task_id", flat=True)) == ["young"]


@override_settings(
    MONITOR_EXPIRE_SUCCESS_DAYS=None,
    MONITOR_EXPIRE_ERROR_DAYS=0.5,
    MONITOR_EXPIRE_UNFINISHED_DAYS=None,
)
def test_expiry_follows_the_settings_and_none_keeps():
    long_ago = NOW - timedelta(days=365)
    add_task("success", "SUCCESS", long_ago)
    add_task("started", "STARTED", long_ago)
    add_task("failure", "FAILURE", NOW - timedelta(hours=13))
    add_task("recent-failure", "FAILURE", NOW - timedelta(hours=11))
    DatabaseStore().cleanup(NOW)
    remaining = set(TaskState.objects.values_list("task_id", flat=True))
    assert remaining == {"success", "started", "recent-failure"}


def test_deletes_in_bounded_batches_on_the_indexed_columns():
    for n in range(5):
        add_task(f"t{n}", "SUCCESS", NOW - timedelta(days=2))
    with CaptureQueriesContext(connection) as queries:
        deleted = TaskState.objects.expire(
            NOW, success=timedelta(days=1), errors=None, unfinished=None, batch_size=2
        )
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert deleted == 5
    assert len(deletes) == 3  # 2 + 2 + 1
    assert all("LIMIT 2" in sql for sql in deletes)
    assert all('"state"' in sql and '"tstamp"' in sql for sql in deletes)


def test_between_batches_runs_between_batches_and_can_stop_the_cleanup():
    for n in range(5):
        add_task(f"t{n}", "SUCCESS", NOW - timedelta(days=2))
    calls = []

    def between():
        calls.append(TaskState.objects.count())
        return len(calls) < 1  # stop after the first batch

    deleted = TaskState.objects.expire(
        NOW,
        success=timedelta(days=1),
        errors=None,
        unfinished=None,
        batch_size=2,
        between_batches=between,
    )
    assert (deleted, calls) == (2, [3])


@override_settings(MONITOR_EXPIRE_BATCH_SIZE=2)
def test_the_store_uses_the_batch_size_setting():
    for n in range(3):
        add_task(f"t{n}", "SUCCESS", NOW - timedelta(days=2))
    batches = []
    DatabaseStore().cleanup(NOW, between_batches=lambda: batches.append(1) or True)
    assert len(batches) == 1
    assert TaskState.objects.count() == 0


def add_worker(hostname, expires):
    WorkerState.objects.create(hostname=hostname, heartbeat_expires=expires)


def test_workers_offline_longer_than_the_setting_are_purged():
    add_worker("gone", NOW - timedelta(days=7) - MINUTE)
    add_worker("recent", NOW - timedelta(days=7) + MINUTE)
    add_worker("online", NOW + MINUTE)
    done = DatabaseStore().cleanup(NOW)
    assert done.workers == 1
    assert set(WorkerState.objects.values_list("hostname", flat=True)) == {"recent", "online"}


@override_settings(MONITOR_PURGE_OFFLINE_WORKERS_DAYS=None)
def test_offline_workers_are_kept_when_the_setting_is_none():
    add_worker("gone", NOW - timedelta(days=700))
    assert DatabaseStore().cleanup(NOW).workers == 0
    assert WorkerState.objects.count() == 1
