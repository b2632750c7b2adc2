"""What quorum queues change for the workers, on a real RabbitMQ: a countdown still runs on
time (through RabbitMQ's delay exchanges, not held by a worker), even one sent before any worker
has declared those exchanges, and a worker still takes one job per pool process (prefetch per
consumer, as quorum queues have no global QoS)."""

import time
from datetime import UTC, datetime

import pytest

from minestrone import queues
from minestrone.celery_app import app as celery_app
from minestrone.monitor.models import TaskState
from tests.integration.monitor.conftest import send, task_states, wait_for_states, wait_until
from tests.pace import within

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
    assert COUNTDOWN - 0.1 <= waited <= COUNTDOWN + within(3), waited
    # sent with tasks.monitor: Celery alone would have routed it under its queue's tasks.#
    assert TaskState.objects.get(pk=later).routing_key == "tasks.monitor"
    with celery_app.connection_for_write() as connection:  # the worker set the delays up
        connection.channel().exchange_declare("celery_delayed_27", "topic", passive=True)

    sleepers = [send("sleepy", 4) for _ in range(4)]
    wait_until(lambda: list(task_states(sleepers).values()).count("STARTED") == 2, what="2 run")
    time.sleep(0.5)  # a worker that prefetched more would have taken them by now
    assert ready_jobs() == 2
    assert list(task_states(sleepers).values()).count("STARTED") == 2
    wait_for_states(dict.fromkeys(sleepers, "SUCCESS"), timeout=30)


def test_a_countdown_sent_before_any_worker_declared_the_delays_is_not_lost(
    camera, monitored_worker
):
    """A worker declares the delay exchanges only after it answers pings (and none may run
    yet); the broker would refuse, or drop, a job sent through delay routes that do not exist,
    so the sender declares them first."""
    with celery_app.connection_for_write() as connection:
        channel = connection.channel()
        for name in [f"celery_delayed_{level}" for level in range(28)] + [
            "celery_delayed_delivery"
        ]:
            channel.exchange_delete(name)  # no worker has run on this virtual host
        channel.close()
    celery_app.declared_delay_routes.clear()
    camera()
    later = send("add", 2, 3, countdown=COUNTDOWN)  # no worker runs
    time.sleep(COUNTDOWN + 1)  # due, and waiting in its queue
    monitored_worker("quorum")
    wait_for_states({later: "SUCCESS"}, timeout=within(30))
    assert TaskState.objects.get(pk=later).routing_key == "tasks.monitor"
