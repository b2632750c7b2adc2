"""A deployed app re-pushed: the classic `default` queue an earlier version declared (which
cannot become a quorum queue) is emptied into `default.quorum` by `manage.py migrate_queues`
(postinstall) and by each new worker's start; an old worker still consuming it keeps it until
it stops, and the job it gave back is moved later. Every job runs, once."""

import pytest
from kombu import Connection, Exchange, Producer, Queue

from minestrone import queues
from minestrone.celery_app import app as celery_app

pytestmark = pytest.mark.integration
LAZY = "minestrone.soup.tasks.lazy_job"
NAMES = ("old0", "old1", "old2")


def publish_old_jobs(connection) -> None:
    """What the former version left: a classic queue bound as the tutorial binds it, 3 jobs."""
    channel = connection.channel()
    exchange = Exchange(queues.EXCHANGE_NAME, type="topic", durable=True)
    Queue(queues.CLASSIC_QUEUE, exchange, routing_key=queues.BINDING_KEY, durable=True)(
        channel
    ).declare()
    producer = Producer(channel, exchange)
    for name in NAMES:
        message = celery_app.amqp.create_task_message(f"id-{name}", LAZY, [name], {})
        producer.publish(
            message.body,
            routing_key="tasks.old",
            headers=message.headers,
            serializer="json",
            delivery_mode=2,
            **message.properties,
        )
    channel.close()


def exists(connection, name: str) -> bool:
    channel = connection.channel()
    try:
        channel.queue_declare(name, passive=True)
    except Exception:  # noqa: BLE001 - 404 closes the channel
        return False
    channel.close()
    return True


def test_a_classic_queue_is_moved_into_the_quorum_queue_and_nothing_is_lost(
    broker_url, manage, start_worker
):
    with Connection(broker_url) as connection, Connection(broker_url) as old_worker:
        publish_old_jobs(connection)
        # an old worker holds one job, unacknowledged, as a consumer of the classic queue
        held = []
        old_channel = old_worker.channel()
        old_channel.basic_qos(0, 1, False)
        old_channel.basic_consume(queues.CLASSIC_QUEUE, callback=held.append)
        old_worker.drain_events(timeout=5)
        assert len(held) == 1

        migrated = manage("migrate_queues")
        assert migrated.process.wait(60) == 0, migrated.log()
        assert "2 job(s) moved from the classic 'default' queue (kept:" in migrated.log()

        old_worker.release()  # it stops without acknowledging: its job goes back
        assert exists(connection, queues.CLASSIC_QUEUE)

        # the new version's worker starts: it moves the returned job and deletes the old queue
        worker = start_worker("new")
        for name in NAMES:
            worker.wait_for_log(f"Lazy job {name} completed", timeout=30)
        assert "1 job(s) moved from the classic 'default' queue (deleted)" in worker.log()
        assert not exists(connection, queues.CLASSIC_QUEUE)
        log = worker.log()
        assert [log.count(f"Lazy job {name} completed") for name in NAMES] == [1, 1, 1]
