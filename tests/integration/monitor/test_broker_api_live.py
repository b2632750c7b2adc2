"""Queue counts from a real RabbitMQ with the management plugin: ready and unacknowledged
exactly, on the reader and on /active/'s queue table, and the passive-declare fallback."""

import contextlib
import re
import secrets
from dataclasses import replace

import amqp
import pytest
from celery import Celery
from django.template.loader import render_to_string

from minestrone.monitor.broker import queue_depths
from minestrone.monitor.queue_depth import MANAGEMENT_API, PASSIVE_DECLARE, QueueDepth
from minestrone.soup.activity import ActivityInspector
from tests.integration.monitor.conftest import wait_until

QUEUE = "mgmt-jobs"
PUBLISHED = 5


def node_of(depths) -> str | None:
    """The name of the broker's only node, as the management API listed it."""
    return depths.nodes[0].name if depths.nodes else None


@contextlib.contextmanager
def fresh_vhost(server, prefix: str):
    """A new virtual host on ``server``, its URL and an AMQP connection to it; both gone after."""
    vhost = f"{prefix}_{secrets.token_hex(4)}"
    url = server.add_vhost(vhost)
    connection = amqp.Connection(
        host=f"{server.host}:{server.port}",
        userid=server.user,
        password=server.password,
        virtual_host=vhost,
        connect_timeout=5,
    )
    try:
        connection.connect()
        yield url, connection
    finally:
        with contextlib.suppress(Exception):  # already closed by a failed step
            connection.close()
        connection.collect()
        server.delete_vhost(vhost)


@pytest.fixture
def held_message(rabbitmq_management_server):
    """A vhost whose queue got 5 messages, one of them delivered to a consumer and not acked."""
    with fresh_vhost(rabbitmq_management_server, "t_broker_api") as (url, connection):
        publisher = connection.channel()
        publisher.queue_declare(QUEUE, durable=False, auto_delete=False)
        for n in range(PUBLISHED):
            publisher.basic_publish(amqp.Message(f"job {n}"), exchange="", routing_key=QUEUE)
        consumer = connection.channel()
        consumer.basic_qos(prefetch_size=0, prefetch_count=1, a_global=False)
        delivered = []
        consumer.basic_consume(QUEUE, callback=delivered.append, no_ack=False)
        connection.drain_events(timeout=10)
        assert len(delivered) == 1  # held, never acknowledged while the test runs
        app = Celery("broker-api-live", broker=url, set_as_current=False)
        app.conf.task_default_queue = QUEUE
        yield app


def test_the_management_api_counts_ready_and_unacked_exactly(
    rabbitmq_management_server, held_message, settings
):
    app = held_message
    settings.MONITOR_BROKER_API_URL = rabbitmq_management_server.management_url
    expected = QueueDepth(QUEUE, PUBLISHED - 1, 1, unacked=1)
    # the plugin refreshes its counts every collect_statistics_interval
    depths = wait_until(
        lambda: (
            (found := queue_depths(app, ["never-declared"]))[0]
            == replace(expected, leader=node_of(found))
            and found
        ),
        what=f"{expected} from the management API",
    )
    assert depths[0].leader.startswith("minestrone")  # a classic queue: on its only node
    assert depths.source == MANAGEMENT_API and depths.api_error is None
    assert depths[1] == QueueDepth("never-declared", None, None, missing=True)

    activity = ActivityInspector(app, 0.5, depths=lambda: queue_depths(app))()
    html = render_to_string("soup/_activity.html", {"activity": activity})
    row = re.search(rf'<tr data-queue="{QUEUE}">.*?</tr>', html, re.S).group(0)
    cells = re.findall(r'<td class="num" data-(\w+)[^>]*>(.*?)</td>', row)
    assert cells == [("ready", "4"), ("unacked", "1"), ("consumers", "1")]
    assert "Read from RabbitMQ's management API" in html


def test_without_the_api_passive_declares_give_ready_and_consumers_only(held_message, settings):
    settings.MONITOR_BROKER_API_URL = None
    depths = queue_depths(held_message)
    assert depths.source == PASSIVE_DECLARE
    assert list(depths) == [QueueDepth(QUEUE, PUBLISHED - 1, 1)]


def test_a_failing_api_falls_back_to_passive_declares_and_says_why(
    rabbitmq_management_server, held_message, settings
):
    settings.MONITOR_BROKER_API_URL = rabbitmq_management_server.management_url + "/nowhere"
    depths = queue_depths(held_message)
    assert depths.source == PASSIVE_DECLARE
    assert depths.api_error.startswith("the management API answered HTTP 4")
    assert list(depths) == [QueueDepth(QUEUE, PUBLISHED - 1, 1)]


def test_a_quorum_queue_names_its_leader_and_members_and_the_node_runs(
    rabbitmq_management_server, settings
):
    server = rabbitmq_management_server
    with fresh_vhost(server, "t_placement") as (url, connection):
        connection.channel().queue_declare(
            "replicated", durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
        )
        app = Celery("placement-live", broker=url, set_as_current=False)
        app.conf.task_default_queue = "replicated"
        settings.MONITOR_BROKER_API_URL = server.management_url
        depths = wait_until(
            lambda: (found := queue_depths(app))[0].members and found,
            what="the quorum queue's members from the management API",
        )
    [queue] = depths
    [node] = depths.nodes
    assert node.running and "@" in node.name
    assert (queue.leader, queue.members, queue.online) == (node.name, (node.name,), (node.name,))
