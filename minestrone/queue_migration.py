"""Bring a RabbitMQ vhost to the queues this version declares: the dead-letter queue, the quorum
queue, and the jobs of the classic ``default`` queue an earlier deploy left, moved over.

The classic queue is first unbound from the exchange (new jobs then reach only the quorum
queue), then each of its jobs is published again with its routing key, headers and properties
and acknowledged only once RabbitMQ confirmed the copy: a crash in between leaves the job in
both queues (it runs twice, as acks_late allows), never in neither. The emptied queue is deleted
unless an old worker still consumes it; a later run (each worker start) moves what it gives back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from amqp import Message as AmqpMessage
from amqp.exceptions import NotFound, PreconditionFailed
from kombu import Connection, Exchange

from minestrone import queues
from minestrone.errors import QueueMigrationError, reaching_the_broker

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Migration:
    """What a run did: jobs moved from the classic queue, and what became of that queue."""

    moved: int
    classic_queue: str  # "absent", "deleted", or "kept: <why>"

    def describe(self) -> str:
        """One line for the deploy's log."""
        return (
            f"queues: {queues.QUORUM_QUEUE} and {queues.DEAD_LETTERS} declared; "
            f"{self.moved} job(s) moved from the classic {queues.CLASSIC_QUEUE!r} queue "
            f"({self.classic_queue})"
        )


def declare(channel, delivery_limit: int) -> None:
    """Declare the dead-letter exchange and queue, then the quorum queue and its binding."""
    dead = queues.dead_letter_queue()(channel)
    dead.declare()
    quorum = queues.task_queues("amqp://", delivery_limit)[0](channel)
    try:
        quorum.declare()
    except PreconditionFailed as exc:
        raise QueueMigrationError(
            f"the queue {queues.QUORUM_QUEUE!r} exists with other arguments ({exc.reply_text}): "
            f"was {queues.DELIVERY_LIMIT_VARIABLE} changed? Keep the value it was declared with, "
            "or delete the queue once it is empty."
        ) from None


def _exists(connection: Connection, name: str) -> bool:
    channel = connection.channel()
    try:
        channel.queue_declare(queue=name, passive=True)
    except NotFound:
        return False
    finally:
        if channel.is_open:
            channel.close()
    return True


def _copy(channel, message) -> None:
    """Publish ``message`` (py-amqp's) again towards the quorum queue, same body and
    properties, persistent; with publisher confirms this returns once RabbitMQ took it."""
    key = message.delivery_info.get("routing_key") or ""
    copy = AmqpMessage(message.body, **{**message.properties, "delivery_mode": 2})
    if key.startswith("tasks."):
        channel.basic_publish(copy, exchange=queues.EXCHANGE_NAME, routing_key=key)
    else:  # not the tutorial's routing: straight to the queue, by name
        channel.basic_publish(copy, exchange="", routing_key=queues.QUORUM_QUEUE)


def _move(connection: Connection) -> int:
    """Move every job of the classic queue; return how many."""
    channel = connection.channel()
    exchange = Exchange(queues.EXCHANGE_NAME, type="topic", durable=True)(channel)
    channel.queue_unbind(queues.CLASSIC_QUEUE, exchange.name, queues.BINDING_KEY)
    publisher = connection.channel()  # in confirm mode: confirm_publish
    moved = 0
    try:
        while (message := channel.basic_get(queues.CLASSIC_QUEUE, no_ack=False)) is not None:
            _copy(publisher, message)
            channel.basic_ack(message.delivery_tag)
            moved += 1
    finally:
        channel.close()
        publisher.close()
    return moved


def _delete_classic(connection: Connection) -> str:
    channel = connection.channel()
    try:
        channel.queue_delete(queues.CLASSIC_QUEUE, if_unused=True, if_empty=True)
    except PreconditionFailed as exc:
        return f"kept: {exc.reply_text}"
    finally:
        if channel.is_open:
            channel.close()
    return "deleted"


def migrate(broker_url: str, delivery_limit: int) -> Migration:
    """Declare this version's queues on the RabbitMQ at ``broker_url`` and move the classic
    queue's jobs into the quorum queue. QueueMigrationError or BrokerUnreachable on failure."""
    options = {"confirm_publish": True}
    with reaching_the_broker(), Connection(broker_url, transport_options=options) as connection:
        connection.ensure_connection(max_retries=2)
        declare(connection.default_channel, delivery_limit)
        if not _exists(connection, queues.CLASSIC_QUEUE):
            return Migration(0, "absent")
        moved = _move(connection)
        return Migration(moved, _delete_classic(connection))
