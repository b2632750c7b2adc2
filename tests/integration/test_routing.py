"""The tutorial's routing on a real RabbitMQ: topic exchange `default`, binding `tasks.#`, to the
quorum queue `default.quorum` (the tutorial's `default` queue on Redis)."""

from kombu import Exchange, Queue

from minestrone.celery_app import app as celery_app
from minestrone.queues import QUORUM_QUEUE
from minestrone.soup.tasks import lazy_job

from .conftest import drain


def test_the_default_queue_is_bound_to_a_topic_exchange_with_tasks_hash(channel):
    exchange = Exchange("default", type="topic")(channel)
    exchange.declare(passive=True)  # exists, with the declared type
    [queue] = celery_app.conf.task_queues
    assert (queue.name, queue.exchange.name, queue.exchange.type, queue.routing_key) == (
        QUORUM_QUEUE,
        "default",
        "topic",
        "tasks.#",
    )
    assert queue.durable and queue.exchange.durable
    assert queue.queue_arguments["x-queue-type"] == "quorum"


def test_a_task_sent_with_tasks_x_reaches_the_quorum_queue_through_exchange_default(channel):
    lazy_job.apply_async(args=["soup"], routing_key="tasks.x")
    [message] = drain(channel, QUORUM_QUEUE)
    assert message.delivery_info["exchange"] == "default"
    assert message.delivery_info["routing_key"] == "tasks.x"
    assert message.headers["task"] == "minestrone.soup.tasks.lazy_job"
    assert message.properties["delivery_mode"] == 2  # persistent


def test_a_narrower_binding_receives_only_matching_keys(channel):
    urgent = Queue(
        "urgent-only",
        Exchange("default", type="topic"),
        routing_key="tasks.urgent.#",
        auto_delete=True,
    )(channel)
    urgent.declare()
    try:
        for key in ("tasks.urgent.soup", "tasks.urgent", "tasks.other", "tasks.urgentish.a"):
            lazy_job.apply_async(args=[key], routing_key=key)
        assert sorted(m.delivery_info["routing_key"] for m in drain(channel, "urgent-only")) == [
            "tasks.urgent",
            "tasks.urgent.soup",
        ]
        assert len(drain(channel, QUORUM_QUEUE)) == 4
    finally:
        urgent.delete()


def test_a_key_outside_tasks_dot_reaches_no_queue(channel):
    lazy_job.apply_async(args=["lost"], routing_key="jobs.x")
    assert drain(channel, QUORUM_QUEUE) == []
