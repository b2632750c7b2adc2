"""Countdowns and ETAs on quorum queues, where Celery 5.7 sends them through RabbitMQ's delay
exchanges (kombu's ``calculate_routing_key``): in whole seconds, as that refuses a delay under
one second (such a delay is rounded up to one second instead), under the job's own routing
key, which Celery would replace by its queue's binding key, and only once the delay exchanges
and the queue's delivery binding exist."""

from __future__ import annotations

from datetime import datetime

from kombu import Connection, Queue
from kombu.transport.native_delayed_delivery import (
    bind_queue_to_native_delayed_delivery_exchange,
    declare_native_delayed_delivery_exchanges_and_queues,
)

from minestrone.delayed import sent_routing_key

SHORTEST_SECONDS = 1


def _aware(eta: datetime, now: datetime) -> datetime:
    """``eta`` with a time zone: a naive one is in ``now``'s."""
    return eta.replace(tzinfo=now.tzinfo) if eta.tzinfo is None else eta


def whole_seconds(countdown: float | None, eta, now: datetime) -> tuple[float | None, object]:
    """``(countdown, eta)`` as Celery may send them: a delay over 0 and under a second becomes
    a countdown of one second; anything else is left as it is."""
    if isinstance(eta, datetime):
        eta = _aware(eta, now)
        remaining = (eta - now).total_seconds()
        if 0 < remaining < SHORTEST_SECONDS:
            return SHORTEST_SECONDS, None
        return countdown, eta
    if countdown is not None and 0 < countdown < SHORTEST_SECONDS:
        return SHORTEST_SECONDS, eta
    return countdown, eta


def is_delayed(countdown: float | None, eta, now: datetime) -> bool:
    """Whether Celery sends a job with this countdown or ETA through the delay exchanges: a
    delay over zero; an ETA as ISO 8601 text counts too."""
    if countdown:
        return countdown > 0
    if isinstance(eta, str):
        try:
            eta = datetime.fromisoformat(eta)
        except ValueError:
            return False
    if isinstance(eta, datetime):
        return _aware(eta, now) > now
    return False


def is_quorum(queue: Queue) -> bool:
    """Whether ``queue`` is a quorum queue (where Celery delays jobs in the broker)."""
    return (queue.queue_arguments or {}).get("x-queue-type") == "quorum"


def keyed_queue(queue: Queue, routing_key: str) -> Queue:
    """``queue`` bound under a delayed job's own routing key (without delay bits, which a
    retried job's key carries): Celery builds the key of a delayed job from its queue's binding
    key, so ``tasks.#`` would replace ``tasks.flaky``. Celery only reads the key; it declares
    nothing with it."""
    return Queue(
        queue.name,
        queue.exchange,
        routing_key=sent_routing_key(routing_key),
        durable=queue.durable,
        queue_arguments=queue.queue_arguments,
    )


def declare_delay_routes(connection: Connection, queue: Queue, queue_type: str) -> None:
    """Declare the delay exchanges and ``queue`` with its binding to their delivery exchange,
    as a worker does when it starts. A sender does it before its first delayed job to
    ``queue``: the broker drops a job published to a delay exchange that does not exist yet,
    and a worker declares them only after it answers pings (Celery's DelayedDelivery step
    follows Control), or not at all while none runs."""
    declare_native_delayed_delivery_exchanges_and_queues(connection, queue_type)
    queue.bind(connection.default_channel).declare()
    bind_queue_to_native_delayed_delivery_exchange(connection, queue)
