"""Delayed jobs on quorum queues: countdowns under a second become one second (Celery 5.7
refuses them), a delayed job keeps its own routing key, and its delay routes are declared
before it is sent. Fakes, no broker (the routes themselves: test_quorum_live.py)."""

import sys
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from kombu import Exchange, Queue

from minestrone.celery_app import MinestroneCelery
from minestrone.countdown import is_delayed, keyed_queue, whole_seconds

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("countdown", "expected"), [(0.2, 1), (0.999, 1), (1, 1), (1.5, 1.5), (0, 0), (None, None)]
)
def test_a_countdown_under_a_second_is_one_second(countdown, expected):
    assert whole_seconds(countdown, None, NOW) == (expected, None)


def test_an_eta_under_a_second_away_is_a_one_second_countdown():
    assert whole_seconds(None, NOW + timedelta(seconds=0.3), NOW) == (1, None)
    later = NOW + timedelta(seconds=5)
    assert whole_seconds(None, later, NOW) == (None, later)
    past = NOW - timedelta(seconds=5)  # due now: sent to the queue straight away
    assert whole_seconds(None, past, NOW) == (None, past)
    naive = (NOW + timedelta(seconds=0.5)).replace(tzinfo=None)
    assert whole_seconds(None, naive, NOW) == (1, None)


def test_the_app_rounds_only_on_quorum_queues(settings):
    app = MinestroneCelery("t", set_as_current=False)
    app.conf.task_queues = [Queue("plain")]
    assert not app.uses_quorum_queues()
    quorum = MinestroneCelery("q", set_as_current=False)
    quorum.conf.task_queues = [Queue("q", queue_arguments={"x-queue-type": "quorum"})]
    assert quorum.uses_quorum_queues()


@pytest.mark.parametrize(
    ("countdown", "eta", "delayed"),
    [
        (1, None, True),
        (0, None, False),
        (-3, None, False),
        (None, NOW + timedelta(seconds=5), True),
        (None, NOW - timedelta(seconds=5), False),
        (None, (NOW + timedelta(seconds=5)).isoformat(), True),
        (None, (NOW + timedelta(seconds=5)).replace(tzinfo=None), True),  # naive: now's zone
        (None, "next tuesday", False),
        (None, None, False),
    ],
)
def test_a_job_is_delayed_only_with_a_delay_over_zero(countdown, eta, delayed):
    assert is_delayed(countdown, eta, NOW) is delayed


def quorum_queue() -> Queue:
    """The app's quorum queue on the topic exchange, bound with tasks.#."""
    return Queue(
        "default.quorum",
        Exchange("default", type="topic"),
        routing_key="tasks.#",
        queue_arguments={"x-queue-type": "quorum"},
    )


def test_the_keyed_queue_is_the_queue_under_the_jobs_own_key():
    queue = quorum_queue()
    retried_key = "0." * 27 + "1.tasks.flaky"  # a retried job's key came through the delays
    for key in ("tasks.flaky", retried_key):
        keyed = keyed_queue(queue, key)
        assert keyed.routing_key == "tasks.flaky"
        assert (keyed.name, keyed.exchange, keyed.queue_arguments) == (
            queue.name,
            queue.exchange,
            queue.queue_arguments,
        )


@pytest.fixture
def quorum_app(monkeypatch):
    """A quorum-queue app whose parent send_task records the options it is given, and whose
    delay routes are recorded (as ``("routes", queue)``), not declared."""
    sent = []

    def record(self, name, args=None, kwargs=None, countdown=None, eta=None, **options):
        sent.append((countdown, options))

    monkeypatch.setattr(Celery, "send_task", record)
    monkeypatch.setattr(
        MinestroneCelery, "prepare_delay_routes", lambda self, queue: sent.append(("routes", queue))
    )
    app = MinestroneCelery("q", set_as_current=False)
    app.conf.task_queues = [quorum_queue()]
    app.conf.task_default_queue = "default.quorum"
    return app, sent


def test_a_delayed_job_keeps_its_routing_key(quorum_app):
    """Celery 5.7 builds a delayed job's key from its queue's binding key (tasks.#): the app
    hands it a queue under the job's own key, having declared the real queue's delay routes."""
    app, sent = quorum_app
    app.send_task("t.flaky", countdown=0.2, routing_key="tasks.flaky")
    (_, routes), (countdown, options) = sent
    assert (routes.name, routes.routing_key) == ("default.quorum", "tasks.#")
    assert countdown == 1
    assert options["queue"].routing_key == "tasks.flaky"
    assert options["queue"].name == "default.quorum"


@pytest.mark.parametrize(
    "options",
    [
        {"routing_key": "tasks.flaky"},  # not delayed
        {"routing_key": "tasks.flaky", "countdown": -1},  # due: sent straight to its queue
        {"countdown": 5},  # no key of its own: the queue's is Celery's choice
        {"countdown": 5, "routing_key": "tasks.flaky", "queue": "default.quorum"},
    ],
)
def test_only_a_delayed_job_with_its_own_key_gets_a_keyed_queue(quorum_app, options):
    app, sent = quorum_app
    app.send_task("t.flaky", **options)
    assert sent[-1][1].get("queue") == options.get("queue")


@pytest.mark.parametrize(
    ("options", "routes"),
    [
        ({"routing_key": "tasks.flaky"}, False),  # not delayed
        ({"routing_key": "tasks.flaky", "countdown": -1}, False),  # due
        ({"countdown": 5}, True),
        ({"countdown": 5, "queue": "default.quorum"}, True),
        ({"eta": timedelta(hours=1)}, True),  # as ISO text, an hour after the test starts
    ],
)
def test_a_delayed_job_declares_its_delay_routes_first(quorum_app, options, routes):
    app, sent = quorum_app
    if "eta" in options:
        options = {"eta": (datetime.now(UTC) + options["eta"]).isoformat()}
    app.send_task("t.flaky", **options)
    assert [entry[0] for entry in sent] == (["routes"] if routes else []) + [sent[-1][0]]


class FakeConnection:
    """connection_for_write's connection: records ensure_connection's arguments."""

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def ensure_connection(self, **policy) -> None:
        self.calls.append(("connect", policy))


def test_the_delay_routes_are_declared_once_per_queue_after_a_bounded_connect(monkeypatch):
    calls = []
    app = MinestroneCelery("q", set_as_current=False)
    app.conf.task_publish_retry_policy = {"max_retries": 2, "interval_max": 0.5, "other": 1}
    monkeypatch.setattr(app, "connection_for_write", lambda: FakeConnection(calls))
    monkeypatch.setattr(
        sys.modules[MinestroneCelery.__module__],
        "declare_delay_routes",
        lambda conn, queue, kind: calls.append((queue, kind)),
    )
    queue = quorum_queue()
    app.prepare_delay_routes(queue)
    app.prepare_delay_routes(queue)
    assert calls == [("connect", {"max_retries": 2, "interval_max": 0.5}), (queue, "quorum")]
