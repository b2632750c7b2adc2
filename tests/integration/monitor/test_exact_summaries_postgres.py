"""Exact hourly summaries on PostgreSQL: the camera's late write and the summary of its hour,
run concurrently, never leave a summary that misses the late task; a task whose finished row
moves to another hour is counted where it now is."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from minestrone.monitor import rollup
from minestrone.monitor.models import HourCount, HourRuntimes, SummarisedHour, TaskState
from minestrone.monitor.states import progress
from minestrone.monitor.store import DatabaseStore
from tests.integration.monitor.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def finished_row(task_id: str, when, state: str = "SUCCESS") -> dict:
    return {
        "task_id": task_id,
        "state": state,
        "progress": progress(state, when.timestamp()),
        "tstamp": when,
        "name": "app.add",
        "runtime": 0.5,
        "worker": "w1",
    }


class Snapshot:
    """What the camera hands the store: tasks by id, no worker, no event."""

    def __init__(self, *rows: dict):
        self.tasks = {row["task_id"]: row for row in rows}
        self.workers = {}
        self.events = []


def summed(hour) -> int:
    """The tasks the hour's summary counts (summing it up if it is not)."""
    return sum(count for *_, count in rollup.counts([hour]))


def in_hour(hour) -> int:
    return TaskState.objects.filter(tstamp__gte=hour, tstamp__lt=hour + rollup.HOUR).count()


@pytest.fixture
def hour():
    """A settled hour with ten finished tasks."""
    start = rollup.hour_of(timezone.now()) - 3 * rollup.HOUR
    TaskState.objects.record(
        [finished_row(f"t{n}", start + timedelta(minutes=n)) for n in range(10)]
    )
    return start


def test_a_late_task_written_while_its_hour_is_summed_up_is_counted(hour, monkeypatch):
    counted = threading.Event()
    release = threading.Event()
    bulk_create = HourRuntimes.objects.bulk_create

    def pause_after_counting(objects, *args, **kwargs):
        objects = list(objects)
        counted.set()  # the summary counted the hour's tasks; it commits once released
        assert release.wait(30)
        return bulk_create(objects, *args, **kwargs)

    monkeypatch.setattr(HourRuntimes.objects, "bulk_create", pause_after_counting)
    errors = []

    def run(job):
        try:
            job()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    summariser = threading.Thread(target=run, args=(lambda: rollup.summarise(hour),))
    summariser.start()
    assert counted.wait(30)
    # the camera commits a late task of that hour, then forgets the hour's summary
    late = Snapshot(finished_row("late", hour + timedelta(minutes=30)))
    camera = threading.Thread(target=run, args=(lambda: DatabaseStore().record(late),))
    camera.start()
    wait_until(lambda: TaskState.objects.filter(pk="late").exists(), what="the late task")
    camera.join(1.0)  # it waits for the summary of that hour to commit (or not at all)
    release.set()
    summariser.join(30)
    camera.join(30)
    monkeypatch.undo()
    assert errors == []
    assert in_hour(hour) == 11
    assert summed(hour) == 11  # not the stale 10


def test_the_summary_waits_for_a_camera_write_in_progress(hour):
    """The other order: the camera holds the hour (its write and forget not committed yet);
    a summary of that hour started meanwhile counts the late task."""
    from django.db import transaction

    done = threading.Event()

    def summarise():
        try:
            rollup.summarise(hour)
        finally:
            connection.close()
            done.set()

    with transaction.atomic():
        DatabaseStore().record(Snapshot(finished_row("late", hour + timedelta(minutes=30))))
        summariser = threading.Thread(target=summarise)
        summariser.start()
        assert not done.wait(1.0)  # it waits for the camera's commit
    summariser.join(30)
    assert summed(hour) == 11


def test_a_task_that_moves_to_another_hour_is_counted_where_it_now_is(hour):
    assert summed(hour) == 10
    later = hour + rollup.HOUR
    assert summed(later) == 0
    # t3 was revoked in `hour`; it finished in the next hour after all (SUCCESS outranks it)
    TaskState.objects.filter(pk="t3").update(state="REVOKED", progress=progress("REVOKED", 0))
    SummarisedHour.objects.all().delete()
    assert summed(hour) == 10 and summed(later) == 0
    DatabaseStore().record(Snapshot(finished_row("t3", later + timedelta(minutes=5))))
    assert TaskState.objects.get(pk="t3").tstamp >= later
    assert summed(hour) == 9
    assert summed(later) == 1
    assert HourCount.objects.filter(summary__hour=later, state="SUCCESS").get().tasks == 1
