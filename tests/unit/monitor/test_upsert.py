"""Snapshots are written in bulk: one statement per batch, merging in SQL."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minestrone.monitor import upsert as upsert_module
from minestrone.monitor.merge import TASK_RULES
from minestrone.monitor.models import TaskState
from minestrone.monitor.snapshot import Changes
from minestrone.monitor.states import progress
from tests.unit.monitor import events as ev

pytestmark = pytest.mark.django_db


def observation(task_id, state="STARTED", seconds=1_700_000_000.0, **fields):
    return {
        "task_id": task_id,
        "state": state,
        "progress": progress(state, seconds),
        "tstamp": datetime.fromtimestamp(seconds, tz=UTC),
        **fields,
    }


@pytest.mark.parametrize(("rows", "statements"), [(1, 1), (499, 1), (500, 1), (501, 2), (1200, 3)])
def test_one_statement_per_batch_of_500(rows, statements):
    with CaptureQueriesContext(connection) as queries:
        written = TaskState.objects.record(observation(f"t{i}") for i in range(rows))
    assert written == rows
    assert len(queries) == statements
    assert all(q["sql"].startswith("INSERT") for q in queries.captured_queries)
    assert TaskState.objects.count() == rows


def test_an_empty_snapshot_costs_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert TaskState.objects.record([]) == 0
    assert len(queries) == 0


def test_rows_of_the_same_task_in_one_batch_are_merged_first():
    rows = [
        observation("a", "STARTED", 1_700_000_002.0),
        observation("a", "RECEIVED", 1_700_000_001.0, name="n"),
    ]
    TaskState.objects.record(rows)
    row = TaskState.objects.get()
    assert (row.state, row.name) == ("STARTED", "n")


def test_rows_are_written_in_key_order():
    rows = upsert_module.dedupe(TASK_RULES, [observation(k) for k in "cab"])
    assert [row["task_id"] for row in rows] == ["a", "b", "c"]


def test_too_long_values_are_cut_to_the_column():
    TaskState.objects.record([observation("a", name="n" * 300, routing_key="r" * 300)])
    row = TaskState.objects.get()
    assert (len(row.name), len(row.routing_key)) == (255, 255)


def test_hidden_defaults_to_false_and_is_kept():
    TaskState.objects.record([observation("a")])
    TaskState.objects.filter(pk="a").update(hidden=True)
    TaskState.objects.record([observation("a", "SUCCESS")])
    assert TaskState.objects.get().hidden is True


def test_a_whole_stream_becomes_one_row_per_task():
    changes = Changes()
    for n in range(50):
        uuid = f"task-{n}"
        for event in (
            ev.sent(uuid, at=n),
            ev.received(uuid, at=n + 0.1),
            ev.task("started", uuid, at=n + 0.2),
            ev.task("succeeded", uuid, at=n + 0.3, result=str(n)),
        ):
            changes.add(event)
    with CaptureQueriesContext(connection) as queries:
        TaskState.objects.record(changes.tasks.values())
    assert len(queries) == 1
    assert TaskState.objects.filter(state="SUCCESS", routing_key="tasks.kitchen").count() == 50


def test_a_finished_state_takes_no_outcome_from_another_state_in_python():
    retried = observation("a", "RETRY", result="Retry()", traceback="tb", runtime=0.5)
    succeeded = observation("a", "SUCCESS", result="1")
    for stored, new in ((retried, succeeded), (succeeded, retried)):
        merged = TASK_RULES.merge(stored, new)
        assert merged["state"] == "SUCCESS"
        assert merged["result"] == "1"
        assert "traceback" not in merged
        assert "runtime" not in merged


def test_two_observations_of_the_same_finished_state_still_fill_each_other_in():
    first = observation("a", "FAILURE", result="KeyError()")
    second = observation("a", "FAILURE", traceback="tb")
    merged = TASK_RULES.merge(first, second)
    assert (merged["result"], merged["traceback"]) == ("KeyError()", "tb")
    TaskState.objects.record([first])
    TaskState.objects.record([second])
    row = TaskState.objects.get()
    assert (row.result, row.traceback) == ("KeyError()", "tb")


@pytest.mark.parametrize("succeeded_first", [False, True])
def test_a_finished_state_takes_no_outcome_from_another_state_in_sql(succeeded_first):
    retried = observation("a", "RETRY", result="Retry()", traceback="tb", runtime=0.5)
    succeeded = observation("a", "SUCCESS", result="1")
    for row in (succeeded, retried) if succeeded_first else (retried, succeeded):
        TaskState.objects.record([row])
    row = TaskState.objects.get()
    assert (row.state, row.result, row.traceback, row.runtime) == ("SUCCESS", "1", None, None)


def test_an_unfinished_state_still_falls_back_to_the_stored_outcome():
    TaskState.objects.record([observation("a", "RETRY", 1_700_000_001.0, traceback="tb")])
    TaskState.objects.record([observation("a", "STARTED", 1_700_000_002.0)])
    row = TaskState.objects.get()
    assert (row.state, row.traceback) == ("STARTED", "tb")
