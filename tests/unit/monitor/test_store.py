"""The store: database outages become StoreUnavailable; a row the database refuses is dropped
alone, not with its whole snapshot."""

import logging
from datetime import UTC, datetime

import pytest
from django.db import DataError, OperationalError

from minestrone.monitor.errors import StoreUnavailable
from minestrone.monitor.managers import TaskStateQuerySet, WorkerStateQuerySet
from minestrone.monitor.models import TaskState, WorkerState
from minestrone.monitor.snapshot import Snapshot
from minestrone.monitor.states import progress
from minestrone.monitor.store import DatabaseStore

pytestmark = pytest.mark.django_db


def row(task_id, state="STARTED"):
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return {
        "task_id": task_id,
        "state": state,
        "tstamp": now,
        "progress": progress(state, now.timestamp()),
    }


def snapshot(*task_ids):
    return Snapshot(tasks={t: row(t) for t in task_ids}, workers={"w1": {"hostname": "w1"}})


def test_a_snapshot_is_written_to_both_tables():
    DatabaseStore().record(snapshot("a", "b"))
    assert TaskState.objects.count() == 2
    assert WorkerState.objects.get().hostname == "w1"


@pytest.mark.parametrize("queryset", [TaskStateQuerySet, WorkerStateQuerySet])
def test_an_unreachable_database_raises_store_unavailable(monkeypatch, queryset):
    def down(self, rows):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(queryset, "record", down)
    with pytest.raises(StoreUnavailable, match="Connection refused"):
        DatabaseStore().record(snapshot("a"))


def test_an_unreachable_database_during_cleanup_raises_store_unavailable(monkeypatch):
    def down(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(TaskStateQuerySet, "expire", down)
    with pytest.raises(StoreUnavailable, match="server closed"):
        DatabaseStore().cleanup(datetime(2024, 1, 1, tzinfo=UTC))


def test_a_refused_row_is_dropped_alone(monkeypatch, caplog):
    original = TaskStateQuerySet.record

    def picky(self, rows):
        rows = list(rows)
        if any(r["task_id"] == "bad" for r in rows):
            raise DataError("value out of range")
        return original(self, rows)

    monkeypatch.setattr(TaskStateQuerySet, "record", picky)
    with caplog.at_level(logging.WARNING):
        DatabaseStore().record(snapshot("a", "bad", "c"))
    assert set(TaskState.objects.values_list("task_id", flat=True)) == {"a", "c"}
    assert "dropped the row of bad" in caplog.text


def test_when_the_database_refuses_every_row_the_snapshot_is_kept_for_later(monkeypatch):
    """No table yet (the camera started before migrate): not the rows' fault, retry later."""

    def broken(self, rows):
        raise DataError('relation "monitor_taskstate" does not exist')

    monkeypatch.setattr(TaskStateQuerySet, "record", broken)
    with pytest.raises(StoreUnavailable, match="refused every row"):
        DatabaseStore().record(snapshot("a", "b"))


def test_rows_refused_for_their_own_values_are_dropped_even_if_all_fail(monkeypatch, caplog):
    def picky(self, rows):
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    monkeypatch.setattr(TaskStateQuerySet, "record", picky)
    with caplog.at_level(logging.ERROR):
        DatabaseStore().record(snapshot("a", "b"))
    assert "dropped the row of a" in caplog.text
    assert WorkerState.objects.get().hostname == "w1"


def test_a_row_refused_by_any_error_is_dropped_alone(monkeypatch, caplog):
    original = TaskStateQuerySet.record

    def picky(self, rows):
        rows = list(rows)
        if any(r["task_id"] == "bad" for r in rows):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return original(self, rows)

    monkeypatch.setattr(TaskStateQuerySet, "record", picky)
    with caplog.at_level(logging.WARNING):
        DatabaseStore().record(snapshot("a", "bad", "c"))
    assert set(TaskState.objects.values_list("task_id", flat=True)) == {"a", "c"}
    assert "dropped the row of bad" in caplog.text
    assert WorkerState.objects.get().hostname == "w1"


def test_a_far_future_eta_is_written(monkeypatch):
    from minestrone.monitor import events
    from tests.unit.monitor import events as ev

    observation = events.observe_task(ev.received(eta="9999-12-31T23:59:59-06:00"))
    DatabaseStore().record(Snapshot(tasks={"t1": observation}))
    assert TaskState.objects.get().eta is None


def test_events_are_written_once_with_their_snapshot():
    from minestrone.monitor.models import TaskEvent

    now = datetime(2024, 1, 1, tzinfo=UTC)
    snap = snapshot("a")
    snap.events = [{"task_id": "a", "kind": "started", "timestamp": now, "hostname": "w1"}]
    store = DatabaseStore()
    store.record(snap)
    store.record(snap)  # a retry of the same snapshot does not insert them again
    assert list(TaskEvent.objects.values_list("task_id", "kind")) == [("a", "started")]


def test_cleanup_deletes_events_older_than_the_longest_kept_task(settings):
    from datetime import timedelta

    from minestrone.monitor.models import TaskEvent

    settings.MONITOR_EXPIRE_UNFINISHED_DAYS = 5
    now = datetime(2024, 1, 10, tzinfo=UTC)
    for age in (1, 4, 6, 9):
        TaskEvent.objects.create(
            task_id=f"t{age}", kind="sent", timestamp=now - timedelta(days=age)
        )
    DatabaseStore().cleanup(now)
    assert sorted(TaskEvent.objects.values_list("task_id", flat=True)) == ["t1", "t4"]


def test_queue_samples_are_written_and_expire_after_two_days():
    from datetime import timedelta

    from minestrone.monitor.models import QueueSample
    from minestrone.monitor.queue_depth import QueueDepth

    now = datetime(2024, 1, 10, tzinfo=UTC)
    store = DatabaseStore()
    store.record_queue_depths(now - timedelta(days=3), [QueueDepth("default", 1, 1)])
    store.record_queue_depths(
        now, [QueueDepth("default", 7, 2), QueueDepth("gone", None, None, True)]
    )
    assert QueueSample.objects.count() == 3 - 1  # the missing queue is not sampled
    store.cleanup(now)
    assert list(QueueSample.objects.values_list("ready", flat=True)) == [7]
    # from the management API: the unacknowledged count too; a queue without counts yet is
    # not sampled
    store.record_queue_depths(
        now, [QueueDepth("jobs", 4, 1, unacked=2), QueueDepth("new", None, None)]
    )
    assert list(QueueSample.objects.filter(queue="jobs").values_list("ready", "unacked")) == [
        (4, 2)
    ]
    assert not QueueSample.objects.filter(queue="new").exists()


def test_a_redis_queue_is_sampled_without_a_consumer_count():
    from minestrone.monitor.broker import QueueDepth
    from minestrone.monitor.models import QueueSample

    at = datetime(2024, 1, 10, tzinfo=UTC)
    DatabaseStore().record_queue_depths(at, [QueueDepth("default", 3, None, unacked=1)])
    assert list(QueueSample.objects.values_list("ready", "consumers", "unacked")) == [
        (3, None, 1)
    ]
