"""The dead-letter queue on RabbitMQ: list its jobs, send one back, or discard one.

Read with ``basic_get`` and no acknowledgement, then the channel is closed: RabbitMQ puts every
message read back in the queue, so looking loses nothing even if the site dies mid-read, and no
management plugin is needed (MONITOR_BROKER_API_URL is optional). A job sent back is published
anew (same task, arguments and routing key, a new id, confirmed by the broker) before its dead
letter is acknowledged: a failure between the two leaves both, never neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from amqp.exceptions import NotFound as QueueMissing
from django.conf import settings

from minestrone import queues
from minestrone.delivery import broker_kind
from minestrone.errors import reaching_the_broker
from minestrone.monitor import retry, sending
from minestrone.monitor.dead_letter import DeadLetter, parse
from minestrone.monitor.errors import DeadLetterMissing, DeadLettersUnsupported, RetryRefused
from minestrone.monitor.models import TaskState

MAX_SHOWN = 500  # a page of dead letters; the queue's length is given beside it
MAX_SCANNED = 10_000  # messages read to find one by its task id


def _check_broker() -> None:
    url = sending.celery_app().conf.broker_url
    if broker_kind(url) != "rabbitmq":
        raise DeadLettersUnsupported(
            f"there is no dead-letter queue on a {broker_kind(url)} broker: jobs over the "
            "delivery limit are dead-lettered by RabbitMQ's quorum queues only"
        )


@contextmanager
def _reading() -> Iterator:
    """A channel on the dead-letter queue; closing it gives back every message not acked."""
    _check_broker()
    with reaching_the_broker(), sending.celery_app().connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        channel = connection.channel()
        try:
            yield channel
        finally:
            if channel.is_open:
                channel.close()


def _messages(channel, most: int) -> Iterator:
    for _ in range(most):
        try:
            message = channel.basic_get(queues.DEAD_LETTERS, no_ack=False)
        except QueueMissing:  # no worker of this version has declared it yet
            return
        if message is None:
            return
        yield message


def _read(message) -> DeadLetter:
    return parse(
        message.body,
        message.properties,
        message.delivery_info.get("routing_key") or "",
        settings.MINESTRONE_DELIVERY_LIMIT,
    )


def _with_workers(letters: list[DeadLetter]) -> list[DeadLetter]:
    """Each letter with the last worker the monitor saw run its task, if any."""
    ids = [letter.task_id for letter in letters if letter.task_id]
    workers = dict(TaskState.objects.filter(pk__in=ids).values_list("task_id", "worker"))
    return [replace(letter, worker=workers.get(letter.task_id)) for letter in letters]


def listing(most: int = MAX_SHOWN) -> tuple[list[DeadLetter], int]:
    """Up to ``most`` dead letters, oldest first, and how many the queue holds in all."""
    with _reading() as channel:
        letters = [_read(message) for message in _messages(channel, most)]
        try:
            _, total, _ = channel.queue_declare(queues.DEAD_LETTERS, passive=True)
        except QueueMissing:
            total = 0
    return _with_workers(letters), max(int(total), len(letters))


def _take(task_id: str, act: Callable[[DeadLetter], object]):
    """Find the dead letter of ``task_id``, run ``act`` on it and, if it returns, acknowledge
    (remove) it; every other message read goes back."""
    with _reading() as channel:
        for message in _messages(channel, MAX_SCANNED):
            letter = _read(message)
            if letter.task_id == task_id:
                outcome = act(letter)
                channel.basic_ack(message.delivery_tag)
                return outcome
    raise DeadLetterMissing(f"no dead-lettered job with task id {task_id!r}")


def _send_again(letter: DeadLetter, who: str) -> str:
    if not letter.can_retry:
        raise RetryRefused(
            f"dead letter {letter.task_id}: its body is not a Celery message whose task and "
            "arguments can be read; discard it, or send it again from code"
        )
    retry.check_registered(letter.task_id, letter.name)
    new_id = sending.send(letter.name, letter.args, letter.kwargs, letter.routing_key)
    retry.link(letter.task_id, new_id, who)
    return new_id


def send_back(task_id: str, who: str) -> str:
    """Send the dead-lettered job again with a new id, linked to the old; return the new id."""
    return _take(task_id, lambda letter: _send_again(letter, who))


def discard(task_id: str) -> DeadLetter:
    """Remove the dead letter of ``task_id`` for good; return what it was."""
    return _take(task_id, lambda letter: letter)
