"""Queue counts from RabbitMQ's management API, against a hand-written fake HTTP server, and the
fallback to passive declares when it is not configured or fails."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery import Celery
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from minestrone.errors import BrokerUnreachable
from minestrone.monitor import broker_api
from minestrone.monitor.broker import queue_depths
from minestrone.monitor.queue_depth import MANAGEMENT_API, PASSIVE_DECLARE, BrokerNode, QueueDepth
from minestrone.platform_env import parse_api_url

ROWS = [
    {"name": "default", "messages_ready": 4, "messages_unacknowledged": 1, "consumers": 2},
    {"name": "other", "messages_ready": 9, "messages_unacknowledged": 0, "consumers": 0},
]


NODES = [{"name": "rabbit@broker-0", "running": True}]


class FakeManagementApi:
    """A loopback HTTP server answering each GET with the scripted (status, body, delay): the
    queues' body, or for /api/nodes the nodes' body."""

    def __init__(self, status=200, body=ROWS, delay=0.0, headers=None, nodes=NODES):
        self.requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append((self.path, dict(self.headers)))
                time.sleep(delay)
                answer = nodes if self.path.startswith("/api/nodes") else body
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def app_on(url: str) -> Celery:
    app = Celery("broker-api-test", broker=url, set_as_current=False)
    app.conf.task_default_queue = "default"
    return app


@pytest.fixture
def api_setting(settings):
    def configure(url, timeout=10.0):
        settings.MONITOR_BROKER_API_URL = url
        settings.MONITOR_BROKER_API_TIMEOUT = timeout

    return configure


def test_the_api_gives_ready_unacked_and_consumers_with_the_brokers_login(api_setting):
    # the AMQP port is closed: every count must come from the API
    app = app_on("amqp://reader:s3cret%2F@127.0.0.1:1/jobs%2Fvh")
    with FakeManagementApi() as api:
        api_setting(api.url + "/")
        depths = queue_depths(app, ["nowhere"])
    assert depths.source == MANAGEMENT_API and depths.api_error is None
    assert list(depths) == [
        QueueDepth("default", 4, 2, unacked=1),
        QueueDepth("nowhere", None, None, missing=True),
    ]
    [(path, headers), (nodes_path, nodes_headers)] = api.requests
    assert path.startswith("/api/queues/jobs%2Fvh?columns=")
    assert "messages_unacknowledged" in path
    assert nodes_path == "/api/nodes?columns=name,running"
    expected = base64.b64encode(b"reader:s3cret/").decode()
    assert headers["Authorization"] == nodes_headers["Authorization"] == f"Basic {expected}"
    assert depths.nodes == (BrokerNode("rabbit@broker-0", True),)


QUORUM_ROWS = [
    {
        "name": "default",
        "messages_ready": 3,
        "messages_unacknowledged": 2,
        "consumers": 1,
        "node": "rabbit@broker-1",
        "leader": "rabbit@broker-1",
        "members": ["rabbit@broker-2", "rabbit@broker-0", "rabbit@broker-1"],
        "online": ["rabbit@broker-1", "rabbit@broker-0"],
    },
    {"name": "classic", "messages_ready": 0, "messages_unacknowledged": 0, "consumers": 0,
     "node": "rabbit@broker-0"},
]  # fmt: skip
CLUSTER = [
    {"name": "rabbit@broker-1", "running": True},
    {"name": "rabbit@broker-0", "running": True},
    {"name": "rabbit@broker-2", "running": False},
    {"running": True},  # no name: skipped
]


def test_a_quorum_queue_shows_its_leader_and_which_members_are_online(api_setting):
    app = app_on("amqp://reader:pw@127.0.0.1:1/")
    with FakeManagementApi(body=QUORUM_ROWS, nodes=CLUSTER) as api:
        api_setting(api.url)
        depths = queue_depths(app, ["classic"])
    classic, default = depths
    assert default.leader == "rabbit@broker-1"
    assert default.members == ("rabbit@broker-0", "rabbit@broker-1", "rabbit@broker-2")
    assert default.offline == ("rabbit@broker-2",)
    assert (classic.leader, classic.members, classic.offline) == ("rabbit@broker-0", (), ())
    assert [(node.name, node.running) for node in depths.nodes] == [
        ("rabbit@broker-0", True),
        ("rabbit@broker-1", True),
        ("rabbit@broker-2", False),
    ]


def test_nodes_the_api_cannot_list_send_the_queues_to_passive_declares(api_setting):
    app = app_on("memory://")
    with FakeManagementApi(nodes={"not": "a list"}) as api:
        api_setting(api.url)
        depths = queue_depths(app)
    assert depths.source == PASSIVE_DECLARE
    assert depths.api_error == "the management API's answer is not a list of nodes"


def test_without_the_setting_the_queues_are_read_by_passive_declare(api_setting):
    api_setting(None)
    depths = queue_depths(app_on("memory://"))
    assert depths.source == PASSIVE_DECLARE and depths.api_error is None
    assert [d.unacked for d in depths] == [None]


@pytest.mark.parametrize(
    ("server", "said"),
    [
        (dict(status=401, body=b'{"error":"not_authorised"}'), "HTTP 401 (the broker's login"),
        (dict(status=500, body=b"oops"), "HTTP 500"),
        (dict(body=b"<html>not json"), "not JSON"),
        (dict(body={"name": "default"}), "not a list of queues"),
        (dict(delay=1.5), "cannot be reached"),
    ],
)
def test_a_failing_api_falls_back_to_passive_declares_and_says_why(api_setting, server, said):
    app = app_on("memory://")
    # a short timeout only where the API is too slow on purpose: a loaded machine can take
    # longer than that to answer at once
    with FakeManagementApi(**server) as api:
        api_setting(api.url, timeout=0.3 if "delay" in server else 10.0)
        depths = queue_depths(app)
    assert depths.source == PASSIVE_DECLARE
    assert said in depths.api_error
    assert depths[0].name == "default" and depths[0].unacked is None


def test_the_login_is_never_in_an_error_nor_sent_after_a_redirect(api_setting):
    app = app_on("amqp://reader:s3cret@127.0.0.1:1//")
    with FakeManagementApi(status=302, headers={"Location": "/elsewhere"}) as api:
        api_setting(api.url, timeout=1.0)
        with pytest.raises(BrokerUnreachable) as raised:
            queue_depths(app)
    assert [path.split("?")[0] for path, _ in api.requests] == ["/api/queues/%2F"]
    assert "s3cret" not in str(raised.value)


def test_an_unreachable_api_is_a_fallback_not_an_error(api_setting):
    with FakeManagementApi() as api:
        url = api.url
    api_setting(url, timeout=1.0)  # nothing listens there any more
    depths = queue_depths(app_on("memory://"))
    assert depths.source == PASSIVE_DECLARE and "cannot be reached" in depths.api_error


def test_rows_with_odd_values_give_unknown_counts():
    rows = [{"name": "q", "messages_ready": "4", "messages_unacknowledged": -1, "consumers": True}]
    assert broker_api.read_api_depths(rows, ["q"]) == [QueueDepth("q", None, None, unacked=None)]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("http://guest:guest@127.0.0.1:15672", "holds a login"),
        ("ftp://127.0.0.1:15672", "not an http:// or https:// URL"),
        ("127.0.0.1:15672", "not an http:// or https:// URL"),
        ("http://127.0.0.1:15672/?x=1", "query or a fragment"),
    ],
)
def test_the_setting_takes_only_a_base_url_and_never_shows_a_password(value, said):
    with pytest.raises(ImproperlyConfigured) as raised:
        parse_api_url("MONITOR_BROKER_API_URL", value)
    assert said in str(raised.value)
    assert "guest:guest" not in str(raised.value)


def test_the_setting_is_optional():
    assert parse_api_url("MONITOR_BROKER_API_URL", None) is None
    assert parse_api_url("MONITOR_BROKER_API_URL", " ") is None
    assert parse_api_url("X", " https://mq.example:15672/ ") == "https://mq.example:15672/"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
rows = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["a", "b", "c"])},
        optional={
            key: json_values for key in ("messages_ready", "messages_unacknowledged", "consumers")
        },
    ),
    max_size=6,
)


@given(rows=rows, names=st.lists(st.sampled_from(["a", "b", "z"]), max_size=4))
def test_any_rows_give_one_sorted_depth_per_name_with_counts_or_none(rows, names):
    depths = broker_api.read_api_depths(rows, names)
    assert [d.name for d in depths] == sorted(set(names))
    for depth in depths:
        for value in (depth.ready, depth.unacked, depth.consumers):
            assert value is None or (type(value) is int and value >= 0)
        assert depth.missing == (depth.name not in {row["name"] for row in rows})
