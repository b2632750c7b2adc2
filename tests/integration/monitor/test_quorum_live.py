"""What quorum queues change for the workers, on a real RabbitMQ: a countdown still runs on
time (through RabbitMQ's delay exchanges, not held by a worker), and a worker still takes one
job per pool process (prefetch per consumer, as quorum queues have no global QoS)."""

import time
from datetime import UTC, datetime

import pytest

from minestrone import queues
from minestrone.celery_app import app as celery_app
from minestrone.monitor.models import TaskState
from tests.integration.monitor.conftest import send, task_states, wait_for_states, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
COUNTDOWN = 3.0


def ready_jobs() -> int:
    with celery_app.connection_for_write() as connection:
        channel = connection.channel()
        _, ready, consumers = channel.queue_declare(queues.QUORUM_QUEUE, passive=True)
        channel.close()
    assert consumers == 1
    return ready


def test_countdown_runs_on_time_and_prefetch_is_one_per_process(camera, monitored_worker):
    camera()
    monitored_worker("quorum")  # -c 2

    sent_at = datetime.now(UTC)
    later = send("add", 1, 2, countdown=COUNTDOWN)
    wait_for_states({later: "SUCCESS"}, timeout=COUNTDOWN + 30)
    waited = (TaskState.objects.get(pk=later).started - sent_at).total_seconds()
    assert COUNTDOWN - 0.1 <= waited <= COUNTDOWN + 3, waited
    with celery_app.connection_for_write() as connection:  # the worker set the delays up
        connection.channel().exchange_declare("celery_delayed_27", "topic", passive=True)

    sleepers = [send("sleepy", 4) for _ in range(4)]
    wait_until(lambda: list(task_states(sleepers).values()).count("STARTED") == 2, what="2 run")
    time.sleep(0.5)  # a worker that prefetched more would have taken them by now
    assert ready_jobs() == 2
    assert list(task_states(sleepers).values()).count("STARTED") == 2
    wait_for_states(dict.fromkeys(sleepers, "SUCCESS"), timeout=30)
