"""Queue depths read from the broker: one AMQP passive declare per queue (nothing is created)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from kombu.exceptions import ChannelError, OperationalError


@dataclass(frozen=True)
class QueueDepth:
    """One queue as the broker sees it: messages ready for delivery and consumers attached."""

    name: str
    ready: int | None
    consumers: int | None
    missing: bool = False  # the broker has no such queue

    @property
    def idle(self) -> bool:
        """True when nothing waits and nobody consumes."""
        return not self.ready and not self.consumers


class BrokerUnreachable(Exception):
    """The broker could not be asked (connection refused, timed out, closed)."""


def read_depths(connection, names: Iterable[str]) -> list[QueueDepth]:
    """Passively declare each queue on `connection` and return its depth, sorted by name.

    A queue the broker does not know closes the channel (404): it is reported as missing and a
    new channel is opened for the next one.
    """
    depths = []
    try:
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
    except (OperationalError, OSError) as exc:
        raise BrokerUnreachable(str(exc) or type(exc).__name__) from exc
    return depths


def _close_quietly(channel) -> None:
    with contextlib.suppress(Exception):  # a channel the broker already closed
        channel.close()


def configured_queue_names(app) -> list[str]:
    """The names of the queues the Celery app declares (task_queues, or the default queue)."""
    queues = app.conf.task_queues or ()
    names = [queue.name for queue in queues]
    return names or [app.conf.task_default_queue]


def queue_depths(app, extra_names: Iterable[str] = ()) -> list[QueueDepth]:
    """Depths of the app's queues and of `extra_names`, on a short-lived broker connection."""
    names = [*configured_queue_names(app), *extra_names]
    with app.connection_for_read() as connection:
        try:
            connection.ensure_connection(max_retries=1)
        except (OperationalError, OSError) as exc:
            raise BrokerUnreachable(str(exc) or type(exc).__name__) from exc
        return read_depths(connection, names)
