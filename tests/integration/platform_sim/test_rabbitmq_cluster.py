"""A ``rabbitmq`` service of 3 nodes in platform_sim, on real RabbitMQ nodes in the app's
namespaces: one host and one status line per node, one cluster, the owner-only cookie, every
node's URL for the app, a killed node healed back into the cluster, 3 → 1 → 3 keeping a quorum
queue's messages, destroy of the service removing every node."""

from __future__ import annotations

import json
import os
import stat
import sys
import time

import amqp
import pytest

from platform_sim.apps import app_paths
from platform_sim.context import make_context
from platform_sim.faults import sites
from platform_sim.output import Printer
from platform_sim.services import cluster

from .conftest import cli_env, info, run_cli

pytestmark = pytest.mark.integration
APP = "cluster"
BUILD_FILE = """\
www:
  type: python-worker
  processes:
    idle: sleep 3600

broker:
  type: rabbitmq
  instances: 3
"""
MESSAGES = 20
HEALED_WITHIN = 90.0


@pytest.fixture(scope="module")
def app(sim_home, tmp_path_factory):
    """The app pushed with a 3-node broker."""
    source = tmp_path_factory.mktemp("src") / APP
    source.mkdir()
    (source / "dotcloud.yml").write_text(BUILD_FILE)
    run_cli(sim_home, "-A", APP, "push", str(source), check=True)
    return source


def context(home):  # noqa: ANN001, ANN201
    """platform_sim's collaborators for the app."""
    env = cli_env(home)
    return make_context(app_paths(APP, env), Printer(sys.stderr), env)


def broker_nodes(home) -> list[dict]:  # noqa: ANN001
    """``info --json``'s entries of the broker's nodes."""
    return info(home, APP)["services"]["broker"]["instances"]


def channel(node: dict) -> amqp.Connection:
    """An AMQP connection to one node (it connects as a ``with`` block begins)."""
    return amqp.Connection(
        host=f"{node['host']}:{node['port']}", userid=node["login"], password=node["password"]
    )


def members(home) -> list[str]:  # noqa: ANN001
    """The cluster's running nodes as node 0 sees them."""
    ctx = context(home)
    node = cluster.present("broker", "rabbitmq", ctx.paths.service("broker"))[0]
    output = cluster.ctl(ctx.data, node, "cluster_status", "--formatter", "json")
    return sorted(json.loads(output)["running_nodes"])


def test_three_nodes_one_cluster_each_shown_the_app_given_every_url(sim_home, app):
    nodes = broker_nodes(sim_home)
    assert [node["status"] for node in nodes] == ["running"] * 3
    assert len({node["host"] for node in nodes}) == 3
    assert members(sim_home) == [f"rabbit@broker-{n}" for n in range(3)]
    status = run_cli(sim_home, "-A", APP, "status", "broker", check=True).stdout
    assert [line.split(":")[0] for line in status.splitlines()] == [
        "broker.0", "broker.1", "broker.2"
    ]
    cookie = sim_home / APP / "services" / "broker" / cluster.COOKIE_FILE
    assert stat.S_IMODE(cookie.stat().st_mode) == 0o600
    www = info(sim_home, APP)["services"]["www"]["instances"][0]
    environment = json.loads(open(www["environment"]).read())  # noqa: PTH123, SIM115
    urls = environment["DOTCLOUD_BROKER_AMQP_URLS"].split(";")
    assert urls[0] == environment["DOTCLOUD_BROKER_AMQP_URL"]
    assert [url.rsplit("@", 1)[1] for url in urls] == [
        f"{node['host']}:{node['port']}" for node in nodes
    ]


def test_a_killed_node_is_restarted_into_the_cluster(sim_home, app):
    folder = sim_home / APP / "services" / "broker" / "node-2"
    os.kill(sites.server_main(folder, "rabbitmq"), 9)
    deadline = time.monotonic() + HEALED_WITHIN
    while time.monotonic() < deadline:
        time.sleep(2)
        if broker_nodes(sim_home)[2]["status"] == "running":
            break
    assert broker_nodes(sim_home)[2]["status"] == "running"
    assert members(sim_home) == [f"rabbit@broker-{n}" for n in range(3)]


def test_scaling_to_one_node_and_back_keeps_a_quorum_queues_messages(sim_home, app):
    with channel(broker_nodes(sim_home)[1]) as connection:
        chan = connection.channel()
        chan.queue_declare("kept", durable=True, auto_delete=False,
                           arguments={"x-queue-type": "quorum"})  # fmt: skip
        chan.confirm_select()
        for number in range(MESSAGES):
            chan.basic_publish(amqp.Message(str(number), delivery_mode=2), routing_key="kept")
    for size in (1, 3):
        run_cli(sim_home, "-A", APP, "scale", f"broker={size}", check=True)
        nodes = broker_nodes(sim_home)
        assert len(nodes) == size
        assert members(sim_home) == [f"rabbit@broker-{n}" for n in range(size)]
        with channel(nodes[-1]) as connection:
            declared = connection.channel().queue_declare("kept", passive=True)
        assert declared.message_count == MESSAGES


@pytest.mark.parametrize("size", ["2", "4", "0"])
def test_scale_to_a_size_that_is_no_cluster_is_one_line_naming_the_rule(sim_home, app, size):
    result = run_cli(sim_home, "-A", APP, "scale", f"broker={size}")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert f"broker={size}: a RabbitMQ service runs 1 or 3 node(s), not {size}" in line


def test_destroying_the_broker_removes_every_node(sim_home, app):
    run_cli(sim_home, "-A", APP, "destroy", "broker", "-y", check=True)
    folder = sim_home / APP / "services" / "broker"
    assert not folder.exists()
    hosts = json.loads((sim_home / APP / "network.json").read_text())["hosts"]
    assert not [key for key in hosts if key.startswith("services-broker")]
