"""The queues the app declares, per kind of broker: on RabbitMQ a quorum queue with a delivery
limit and at-least-once dead lettering to a queue nothing consumes; on Redis (and kombu's memory
transport) the tutorial's plain ``default`` list.

The routing is the tutorial's on both: the topic exchange ``default``, binding ``tasks.#``. On
RabbitMQ the quorum queue has a name of its own, ``default.quorum``: the classic ``default`` an
earlier deploy declared cannot be redeclared as quorum (PRECONDITION_FAILED), so a re-pushed app
declares the new queue beside it and ``manage.py migrate_queues`` (postinstall) moves the old
queue's jobs over (minestrone/queue_migration.py).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from minestrone.delivery import broker_kind

EXCHANGE_NAME = "default"
BINDING_KEY = "tasks.#"
CLASSIC_QUEUE = "default"  # the tutorial's queue: Redis, memory, and RabbitMQ before quorum
QUORUM_QUEUE = "default.quorum"
DEAD_LETTERS = "default.dead-letters"  # fanout exchange and quorum queue of the same name
DELIVERY_LIMIT_VARIABLE = "MINESTRONE_DELIVERY_LIMIT"
DEFAULT_DELIVERY_LIMIT = 5
MAX_DELIVERY_LIMIT = 1000


def parse_delivery_limit(value: str | None) -> int:
    """Read MINESTRONE_DELIVERY_LIMIT: how many times a job may be delivered again (after its
    first delivery) before it is dead-lettered; 1 to 1000, 5 when unset."""
    if value is None or value.strip() == "":
        return DEFAULT_DELIVERY_LIMIT
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit() and 1 <= int(digits) <= MAX_DELIVERY_LIMIT):
        shown = repr(value[:40] + ("…" if len(value) > 40 else ""))
        raise ImproperlyConfigured(
            f"{DELIVERY_LIMIT_VARIABLE}={shown} is not a number of redeliveries from 1 to "
            f"{MAX_DELIVERY_LIMIT} (a job delivered that many times more is dead-lettered)."
        )
    return int(digits)


def exchange() -> Exchange:
    """The tutorial's topic exchange."""
    return Exchange(EXCHANGE_NAME, type="topic", durable=True)


def quorum_arguments(delivery_limit: int) -> dict:
    """The quorum queue's arguments: the delivery limit and at-least-once dead lettering (which
    RabbitMQ accepts only with ``reject-publish`` overflow)."""
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": DEAD_LETTERS,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def dead_letter_queue() -> Queue:
    """Where jobs over the delivery limit go: a quorum queue that no worker consumes."""
    return Queue(
        DEAD_LETTERS,
        Exchange(DEAD_LETTERS, type="fanout", durable=True),
        routing_key="",
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def default_queue_name(broker_url: str) -> str:
    """The name of the queue the workers consume, for the broker at ``broker_url``."""
    return QUORUM_QUEUE if broker_kind(broker_url) == "rabbitmq" else CLASSIC_QUEUE


def task_queues(broker_url: str, delivery_limit: int) -> tuple[Queue, ...]:
    """Celery's ``task_queues`` for the broker at ``broker_url``."""
    name = default_queue_name(broker_url)
    if name == CLASSIC_QUEUE:
        return (Queue(name, exchange(), routing_key=BINDING_KEY, durable=True),)
    queue = Queue(
        name,
        exchange(),
        routing_key=BINDING_KEY,
        durable=True,
        queue_arguments=quorum_arguments(delivery_limit),
    )
    return (queue,)
