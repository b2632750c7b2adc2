"""The merge rules on fabricated event sequences, whatever order and snapshots they arrive in.

Each scenario is a list of events and the row they must leave. Every scenario is delivered in
many orders (in order, reversed, shuffled) and three ways: all in one snapshot (merged in
Python), one snapshot per event (merged by the database's upsert), and random snapshots.
"""

import itertools
import random
from datetime import UTC, datetime

import pytest

from minestrone.monitor.models import TaskState
from minestrone.monitor.snapshot import Changes
from tests.unit.monitor import events as ev
from tests.unit.monitor.events import T0

pytestmark = pytest.mark.django_db


def at(seconds):
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


NAME = "minestrone.soup.tasks.lazy_job"

SCENARIOS = {
    "success in order": (
        [
            ev.sent(at=0),
            ev.received(at=1),
            ev.task("started", at=2),
            ev.task("succeeded", at=3, result="'done'", runtime=1.25),
        ],
        {
            "state": "SUCCESS",
            "tstamp": at(3),
            "name": NAME,
            "args": "('soup',)",
            "kwargs": "{}",
            "routing_key": "tasks.kitchen",
            "exchange": "default",
            "queue": "default",
            "worker": "w1@host",
            "result": "'done'",
            "runtime": 1.25,
            "retries": 0,
            "sent": at(0),
            "received": at(1),
            "started": at(2),
            "finished": at(3),
        },
    ),
    "failure": (
        [
            ev.sent(at=0),
            ev.received(at=1),
            ev.task("started", at=2),
            ev.task("failed", at=3, exception="ValueError('bad')", traceback="Traceback …"),
        ],
        {
            "state": "FAILURE",
            "result": "ValueError('bad')",
            "traceback": "Traceback …",
            "finished": at(3),
            "name": NAME,
            "worker": "w1@host",
        },
    ),
    "missing RECEIVED and sent: recorded, name filled in by a late task-sent": (
        [
            ev.task("started", at=2),
            ev.task("succeeded", at=3, result="None", runtime=0.5),
            ev.sent(at=0),
        ],
        {
            "state": "SUCCESS",
            "name": NAME,
            "routing_key": "tasks.kitchen",
            "worker": "w1@host",
            "received": None,
            "started": at(2),
            "sent": at(0),
        },
    ),
    "started then a late RECEIVED: stays STARTED, keeps the RECEIVED fields": (
        [ev.task("started", at=2), ev.received(at=1, args="(1, 2)")],
        {"state": "STARTED", "tstamp": at(2), "args": "(1, 2)", "name": NAME},
    ),
    "a late STARTED never reopens a finished task": (
        [
            ev.received(at=1),
            ev.task("succeeded", at=3, result="1"),
            ev.task("started", at=2),
        ],
        {"state": "SUCCESS", "tstamp": at(3), "started": at(2), "finished": at(3)},
    ),
    "retried, received again, succeeded on another worker": (
        [
            ev.sent(at=0),
            ev.received(at=1),
            ev.task("started", at=2),
            ev.task("retried", at=3, exception="Retry('again')", traceback="Traceback retry"),
            ev.received(at=4, hostname="w2@host", retries=1, eta="2023-11-14T22:13:34+00:00"),
            ev.task("started", at=5, hostname="w2@host"),
            ev.task("succeeded", at=6, hostname="w2@host", result="'ok'", runtime=0.75),
        ],
        {
            "state": "SUCCESS",
            "tstamp": at(6),
            "worker": "w2@host",
            "retries": 1,
            "result": "'ok'",
            "traceback": None,  # the retry's traceback is not the success's
            "received": at(4),
            "started": at(5),
            "finished": at(6),
            "eta": at(14),
            "runtime": 0.75,
        },
    ),
    "retried and received again: RECEIVED, not stuck in RETRY": (
        [
            ev.received(at=1),
            ev.task("started", at=2),
            ev.task("retried", at=3, exception="Retry()", traceback="tb"),
            ev.received(at=4, hostname="w2@host", retries=1),
        ],
        {"state": "RECEIVED", "tstamp": at(4), "worker": "w2@host", "retries": 1},
    ),
    "retried, not yet received again": (
        [
            ev.received(at=1),
            ev.task("started", at=2),
            ev.task("retried", at=3, exception="Retry()", traceback="tb"),
        ],
        {"state": "RETRY", "tstamp": at(3), "result": "Retry()", "traceback": "tb"},
    ),
    "the retry's own event stamped after the new run finished: not frozen in RETRY": (
        [
            ev.received(at=1),
            ev.task("started", at=2),
            ev.received(at=3.01, hostname="w2@host", retries=1),
            ev.task("started", at=3.02, hostname="w2@host"),
            ev.task("succeeded", at=3.03, hostname="w2@host", result="2"),
            ev.task("retried", at=3.05, exception="Retry()", traceback="tb"),
        ],
        {
            "state": "SUCCESS",
            "tstamp": at(3.03),
            "worker": "w2@host",
            "result": "2",
            "traceback": None,
        },
    ),
    "retried, then failed: the failure's outcome, not the retry's": (
        [
            ev.received(at=1),
            ev.task("started", at=2),
            ev.task("retried", at=3, exception="Retry()", traceback="tb retry"),
            ev.received(at=4, retries=1),
            ev.task("started", at=5),
            ev.task("failed", at=6, exception="KeyError('x')", traceback="tb failure"),
        ],
        {"state": "FAILURE", "result": "KeyError('x')", "traceback": "tb failure", "retries": 1},
    ),
    "retried, then revoked: no outcome left from the retry": (
        [
            ev.received(at=1),
            ev.task("started", at=2),
            ev.task("retried", at=3, exception="Retry()", traceback="tb"),
            ev.task("revoked", at=4, terminated=False, signum=None, expired=False),
        ],
        {"state": "REVOKED", "result": None, "traceback": None, "runtime": None},
    ),
    "a worker whose clock is behind finishes: still finished": (
        [ev.received(at=5), ev.task("started", at=6), ev.task("succeeded", at=4, result="1")],
        {"state": "SUCCESS", "tstamp": at(4), "finished": at(4)},
    ),
    "revoked before it ran; a late STARTED does not undo it": (
        [
            ev.sent(at=0),
            ev.received(at=1),
            ev.task("revoked", at=3, terminated=False, signum=None, expired=False),
            ev.task("started", at=2),
        ],
        {"state": "REVOKED", "tstamp": at(3), "finished": at(3), "name": NAME},
    ),
    "revoked while running without terminate, then succeeded": (
        [
            ev.received(at=1),
            ev.task("started", at=2),
            ev.task("revoked", at=3, terminated=False),
            ev.task("succeeded", at=4, result="1"),
        ],
        {"state": "SUCCESS", "tstamp": at(4), "finished": at(4)},
    ),
    "a task-sent stamped after RECEIVED (client clock ahead) never hides it": (
        [ev.received(at=1), ev.sent(at=5)],
        {"state": "RECEIVED", "tstamp": at(1), "sent": at(5), "routing_key": "tasks.kitchen"},
    ),
}


def orders(events, count=12, seed=7):
    """In order, reversed, and shuffled orders (every order for short sequences)."""
    if len(events) <= 4:
        return [list(p) for p in itertools.permutations(events)]
    rng = random.Random(seed)
    result = [list(events), list(reversed(events))]
    for _ in range(count):
        shuffled = list(events)
        rng.shuffle(shuffled)
        result.append(shuffled)
    return result


def deliver_in_snapshots(events, cuts):
    """Fold the events into Changes, writing a snapshot at each cut (and at the end)."""
    changes = Changes()
    for index, event in enumerate(events):
        changes.add(event)
        if index in cuts:
            TaskState.objects.record(changes.tasks.values())
            changes = Changes()
    TaskState.objects.record(changes.tasks.values())


def check_row(expected):
    row = TaskState.objects.values().get(task_id="t1")
    assert {column: row[column] for column in expected} == expected


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_snapshot_merged_in_python(scenario):
    events, expected = SCENARIOS[scenario]
    for order in orders(events):
        TaskState.objects.all().delete()
        deliver_in_snapshots(order, cuts=set())
        check_row(expected)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_snapshot_per_event_merged_by_the_database(scenario):
    events, expected = SCENARIOS[scenario]
    for order in orders(events):
        TaskState.objects.all().delete()
        deliver_in_snapshots(order, cuts=set(range(len(order))))
        check_row(expected)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_random_snapshots(scenario):
    events, expected = SCENARIOS[scenario]
    rng = random.Random(scenario)
    for order in orders(events):
        TaskState.objects.all().delete()
        cuts = {i for i in range(len(order)) if rng.random() < 0.5}
        deliver_in_snapshots(order, cuts)
        check_row(expected)


def test_later_events_never_blank_known_fields():
    deliver_in_snapshots([ev.sent(at=0)], cuts=set())
    # succeeded carries no name, args or routing key: they stay
    deliver_in_snapshots([ev.task("succeeded", at=3, result="1")], cuts=set())
    check_row(
        {
            "name": NAME,
            "args": "('soup',)",
            "routing_key": "tasks.kitchen",
            "state": "SUCCESS",
            "result": "1",
        }
    )


def test_tasks_do_not_mix():
    deliver_in_snapshots(
        [ev.received("a", at=1), ev.task("succeeded", "b", at=2), ev.task("started", "a", at=3)],
        cuts={0},
    )
    states = dict(TaskState.objects.values_list("task_id", "state"))
    assert states == {"a": "STARTED", "b": "SUCCESS"}
