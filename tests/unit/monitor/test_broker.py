"""Queue depths read from the broker by passive declares (kombu's in-memory transport)."""

import pytest
from kombu import Connection, Exchange, Queue

from minestrone.errors import BrokerUnreachable
from minestrone.monitor.broker import configured_queue_names, read_depths
from minestrone.monitor.queue_depth import QueueDepth


@pytest.fixture
def connection():
    with Connection("memory://") as conn:
        yield conn


def test_depths_count_ready_messages_and_missing_queues_are_reported(connection):
    exchange = Exchange("ex", type="topic")
    queue = Queue("depth-q", exchange, routing_key="tasks.#")
    channel = connection.channel()
    queue(channel).declare()
    channel.queue_purge("depth-q")
    with connection.Producer() as producer:
        for n in range(3):
            producer.publish({"n": n}, exchange=exchange, routing_key="tasks.x", declare=[queue])
    depths = read_depths(connection, ["nowhere", "depth-q", "depth-q"])
    assert depths == [QueueDepth("depth-q", 3, 0), QueueDepth("nowhere", None, None, missing=True)]
    # nothing was created by asking
    assert read_depths(connection, ["nowhere"])[0].missing


def test_passive_declare_never_creates_a_queue(connection):
    read_depths(connection, ["never-made"])
    with pytest.raises(Exception):  # noqa: B017 - the channel error of a missing queue
        connection.channel().queue_declare(queue="never-made", passive=True)


class BrokenConnection:
    def channel(self):
        raise ConnectionRefusedError(111, "Connection refused")


def test_an_unreachable_broker_is_one_error():
    with pytest.raises(BrokerUnreachable, match="Connection refused"):
        read_depths(BrokenConnection(), ["default"])


def test_configured_queue_names_are_the_apps():
    from minestrone.celery_app import app

    assert configured_queue_names(app) == ["default"]


def test_the_dead_letter_queue_is_watched_beside_the_quorum_queue():
    from celery import Celery

    from minestrone import queues

    app = Celery("t", set_as_current=False)
    app.conf.task_queues = queues.task_queues("amqp://h//", 5)
    assert configured_queue_names(app) == ["default.quorum", "default.dead-letters"]


@pytest.mark.parametrize(
    ("ready", "consumers", "idle"), [(0, 0, True), (1, 0, False), (0, 2, False)]
)
def test_idle(ready, consumers, idle):
    assert QueueDepth("q", ready, consumers).idle is idle
