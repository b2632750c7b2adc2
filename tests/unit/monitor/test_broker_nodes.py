"""The broker's nodes and each queue's leader and members: in the metrics, and on the dashboard
(staff only) when the management API is configured."""

import re
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import metrics, views
from minestrone.monitor.queue_depth import MANAGEMENT_API, BrokerNode, QueueDepth, QueueDepths

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
NODES = ("rabbit@broker-0", "rabbit@broker-1", "rabbit@broker-2")
CLUSTER = QueueDepths(
    [
        QueueDepth("default", 3, 1, unacked=2, leader=NODES[1], members=NODES, online=NODES[:2]),
        QueueDepth("classic", 0, 0, unacked=0, leader=NODES[0]),
        QueueDepth("never-declared", None, None, missing=True),
    ],
    MANAGEMENT_API,
    nodes=(BrokerNode(NODES[0], True), BrokerNode(NODES[1], True), BrokerNode(NODES[2], False)),
)


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()


def samples(depths) -> dict:
    text = metrics.render(NOW, depths=lambda: depths).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_metrics_say_which_nodes_run_and_where_each_queue_lives():
    found = samples(CLUSTER)
    assert [found[("minestrone_broker_node_up", (("node", n),))] for n in NODES] == [1, 1, 0]
    assert found[("minestrone_queue_leader", (("node", NODES[1]), ("queue", "default")))] == 1
    assert found[("minestrone_queue_leader", (("node", NODES[0]), ("queue", "classic")))] == 1
    online = "minestrone_queue_member_online"
    assert [found[(online, (("node", n), ("queue", "default")))] for n in NODES] == [1, 1, 0]
    assert not [key for key in found if key[0] == online and ("queue", "classic") in key[1]]


def test_without_the_management_api_there_is_no_placement_to_export():
    found = samples([QueueDepth("default", 1, 1)])
    assert not [key for key in found if "node" in key[0] or "leader" in key[0]]


@pytest.fixture
def broker_read(monkeypatch, settings):
    settings.MONITOR_BROKER_API_URL = "http://127.0.0.1:15672"
    reads = []

    def depths():
        reads.append(1)
        if isinstance(reads_give[0], Exception):
            raise reads_give[0]
        return reads_give[0]

    reads_give = [CLUSTER]
    monkeypatch.setattr(views, "_broker_depths", depths)
    return reads, reads_give


def test_the_dashboard_shows_each_node_and_each_queues_leader_and_members(
    client, admin_client, broker_read
):
    assert client.get("/monitor/").status_code == 302  # staff only, as the rest of it
    page = admin_client.get("/monitor/").content.decode()
    nodes = dict(re.findall(r'<tr data-node="([^"]+)">.*?<td data-state>(.*?)</td>', page, re.S))
    assert nodes == {
        NODES[0]: "running",
        NODES[1]: "running",
        NODES[2]: '<strong class="error">down</strong>',
    }
    placement = re.search(r'<table id="queue-placement">.*?</table>', page, re.S).group(0)
    row = re.search(r'<tr data-queue="default">.*?</tr>', placement, re.S).group(0)
    assert f'<td class="trunc mono" data-leader title="{NODES[1]}">{NODES[1]}</td>' in row
    assert f"2 of 3 online; down: {NODES[2]}" in row
    assert "not replicated (classic queue)" in placement
    assert "never-declared" not in placement


def test_polling_dashboards_ask_the_broker_once_per_interval(admin_client, broker_read):
    reads, _ = broker_read
    for _ in range(3):
        admin_client.get("/monitor/", headers={"HX-Request": "true"})
    assert len(reads) == 1


def test_an_unreachable_broker_is_said_on_the_dashboard_not_an_error(admin_client, broker_read):
    _, gives = broker_read
    gives[0] = BrokerUnreachable("connection refused")
    response = admin_client.get("/monitor/")
    assert response.status_code == 200
    assert "The broker cannot be reached: connection refused" in response.content.decode()


def test_without_the_management_api_the_dashboard_does_not_ask_the_broker(
    admin_client, broker_read, settings
):
    reads, _ = broker_read
    settings.MONITOR_BROKER_API_URL = None
    page = admin_client.get("/monitor/").content.decode()
    assert reads == [] and 'id="broker-nodes"' not in page
