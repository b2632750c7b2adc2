"""Queue depths read from the broker: RabbitMQ's management API where configured (with the
queues' leader and members and the cluster's nodes), else one AMQP passive declare per queue
(nothing is created); on Redis, the queues' lists and the unacked hash."""

from __future__ import annotations

import contextlib
import json
import logging
from collections import Counter
from collections.abc import Iterable

from kombu.exceptions import ChannelError

from minestrone.errors import BrokerUnreachable, reaching_the_broker
from minestrone.monitor import broker_api
from minestrone.monitor.conf import setting
from minestrone.monitor.errors import BrokerApiError
from minestrone.monitor.queue_depth import (
    MANAGEMENT_API,
    PASSIVE_DECLARE,
    REDIS_KEYS,
    QueueDepth,
    QueueDepths,
)

logger = logging.getLogger(__name__)


def read_depths(connection, names: Iterable[str]) -> list[QueueDepth]:
    """Passively declare each queue on `connection` and return its depth, sorted by name.

    A queue the broker does not know closes the channel (404): it is reported as missing and a
    new channel is opened for the next one.
    """
    depths = []
    with reaching_the_broker():
        channel = connection.channel()
        try:
            for name in sorted(set(names)):
                try:
                    _, ready, consumers = channel.queue_declare(queue=name, passive=True)
                except ChannelError:
                    depths.append(QueueDepth(name, None, None, missing=True))
                    _close_quietly(channel)
                    channel = connection.channel()
                    continue
                depths.append(QueueDepth(name, int(ready), int(consumers)))
        finally:
            _close_quietly(channel)
    return depths


def read_redis_depths(
    connection, names: Iterable[str], exchanges: Iterable = ()
) -> list[QueueDepth]:
    """Depths of queues on Redis, sorted by name: ready is the length of the queue's lists (one
    per priority); unacked counts the jobs of kombu's unacked hash whose exchange and routing key
    lead to the queue (taken by a worker, not yet acknowledged). A queue is a list that exists
    while it holds messages, so none is reported missing. ``exchanges`` (kombu Exchanges) are
    the ones jobs are published to: kombu routes by their type, which Redis does not keep."""
    try:
        with reaching_the_broker():
            return _redis_depths(connection, names, exchanges)
    except tuple(connection.connection_errors) as exc:  # redis-py's own, not OSError
        raise BrokerUnreachable(str(exc) or type(exc).__name__) from exc


def _redis_depths(connection, names: Iterable[str], exchanges: Iterable) -> list[QueueDepth]:
    channel = connection.default_channel
    for exchange in exchanges:  # kept by kombu in this process only: Redis is not written
        channel.exchange_declare(exchange.name, exchange.type, durable=exchange.durable)
    routes: Counter = Counter()
    for _tag, raw in channel.client.hscan_iter(channel.unacked_key):
        try:
            _message, exchange, routing_key = json.loads(raw)
        except (TypeError, ValueError):
            continue  # not kombu's: counted nowhere
        routes[(exchange, routing_key)] += 1
    unacked: Counter = Counter()
    for (exchange, routing_key), jobs in routes.items():
        for queue in channel._lookup(exchange, routing_key):  # where kombu would restore it
            unacked[queue] += jobs
    return [
        QueueDepth(name, int(channel._size(name)), None, unacked=unacked[name])
        for name in sorted(set(names))
    ]


def _close_quietly(channel) -> None:
    with contextlib.suppress(Exception):  # a channel the broker already closed
        channel.close()


def configured_queue_names(app) -> list[str]:
    """The names of the queues the Celery app declares (task_queues, or the default queue),
    and the dead-letter queue its queues dead-letter to (named as its exchange)."""
    queues = app.conf.task_queues or ()
    names = [queue.name for queue in queues]
    dead = {(queue.queue_arguments or {}).get("x-dead-letter-exchange") for queue in queues}
    return (names or [app.conf.task_default_queue]) + sorted(dead - {None, ""})


def queue_depths(app, extra_names: Iterable[str] = (), opener=None) -> QueueDepths:
    """Depths of the app's queues and of `extra_names`: from the management API when
    MONITOR_BROKER_API_URL is set and it answers (the nodes too), else by passive declares on a
    short-lived broker connection (on Redis, from its keys)."""
    names = [*configured_queue_names(app), *extra_names]
    api_url = setting("BROKER_API_URL")
    api_error = None
    with app.connection_for_read() as connection:
        if api_url:
            login = (connection.userid or "", connection.password or "")
            timeout = float(setting("BROKER_API_TIMEOUT"))
            try:
                rows = broker_api.fetch_queues(
                    str(api_url), connection.virtual_host or "/", *login, timeout, opener
                )
                nodes = broker_api.fetch_nodes(str(api_url), *login, timeout, opener)
                return QueueDepths(
                    broker_api.read_api_depths(rows, names),
                    MANAGEMENT_API,
                    nodes=broker_api.read_nodes(nodes),
                )
            except BrokerApiError as exc:
                api_error = str(exc)
                logger.warning("queue depths read by passive declare instead: %s", api_error)
        with reaching_the_broker():
            connection.ensure_connection(max_retries=1)
        if connection.transport.driver_type == "redis":
            exchanges = [queue.exchange for queue in app.conf.task_queues or ()]
            depths = read_redis_depths(connection, names, exchanges)
            return QueueDepths(depths, REDIS_KEYS, api_error)
        return QueueDepths(read_depths(connection, names), PASSIVE_DECLARE, api_error)
