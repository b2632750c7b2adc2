"""The app's dead-letter queue on RabbitMQ, seen from the fault bench: its length (a passive
declare) and its jobs (``basic_get`` without acknowledgement, then the channel closed, so that
RabbitMQ puts every message read back: looking takes nothing away)."""

from __future__ import annotations

from amqp.exceptions import NotFound

from minestrone.monitor.dead_letter import DELIVERY_LIMIT_REASON, DeadLetter, parse
from minestrone.queues import DEAD_LETTERS, QUORUM_QUEUE

MAX_READ = 1000  # messages read in one look


class DeadLetters:
    """The queue ``default.dead-letters`` through a Celery client app's connections."""

    def __init__(self, app) -> None:  # noqa: ANN001 - a celery.Celery
        self.app = app

    def _channel_do(self, action):  # noqa: ANN001, ANN202
        with self.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            try:
                return action(channel)
            except NotFound:  # no worker has declared it yet: empty (the channel is closed)
                return None
            finally:
                if channel.is_open:
                    channel.close()

    def count(self) -> int:
        """How many messages the queue holds (0 when it does not exist yet)."""
        declared = self._channel_do(lambda ch: ch.queue_declare(DEAD_LETTERS, passive=True))
        return declared.message_count if declared else 0

    def letters(self) -> list[DeadLetter]:
        """Every message in the queue (up to MAX_READ), read and given back."""

        def read(channel) -> list[DeadLetter]:  # noqa: ANN001
            found = []
            for _ in range(MAX_READ):
                message = channel.basic_get(DEAD_LETTERS, no_ack=False)
                if message is None:
                    break
                key = message.delivery_info.get("routing_key") or ""
                found.append(parse(message.body, message.properties, key, 0))
            return found

        return self._channel_do(read) or []


def copies_of(letters: list[DeadLetter], name: str) -> int:
    """How many of ``letters`` are the job ``name`` dead-lettered from the app's quorum queue
    for going over its delivery limit."""
    return sum(
        letter.args == [name]
        and letter.reason == DELIVERY_LIMIT_REASON
        and letter.queue == QUORUM_QUEUE
        for letter in letters
    )
