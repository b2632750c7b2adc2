"""A RabbitMQ cluster's shared facts: its sizes, its nodes' names, its cookie and its peer list.

platform_sim (one host per node), the Compose and Kubernetes exports and kube-play all name
and join the nodes of a ``rabbitmq`` service with ``instances: 3`` from here.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from platform_sim.errors import UsageError

# One node, or three: a cluster of two loses its majority with either node, one of four
# survives no more losses than one of three.
SIZES = (1, 3)
# The application variable listing every node's URL, joined by ";" (kombu's failover form):
# DOTCLOUD_<NAME>_AMQP_URLS. DOTCLOUD_<NAME>_AMQP_URL stays the first node's, as on dotCloud.
URLS_SUFFIX = "URLS"
URL_SEPARATOR = ";"
COOKIE_BYTES = 24


def node_host(service: str, index: int, domain: str = "") -> str:
    """The host name of node ``index`` of ``service`` (``broker-0``, or with ``domain``)."""
    host = f"{service}-{index}"
    return f"{host}.{domain}" if domain else host


def node_name(service: str, index: int, domain: str = "") -> str:
    """The Erlang node name of node ``index`` (``rabbit@broker-0``); long when ``domain``."""
    return f"rabbit@{node_host(service, index, domain)}"


def node_names(service: str, size: int, domain: str = "") -> list[str]:
    """Every node's Erlang name, node 0 first."""
    return [node_name(service, index, domain) for index in range(size)]


def needs_long_names(domain: str) -> bool:
    """Whether the nodes' names hold dots, so RabbitMQ must run with RABBITMQ_USE_LONGNAME."""
    return bool(domain)


def new_cookie() -> str:
    """A fresh Erlang cookie for one application's cluster (letters and digits only)."""
    return secrets.token_hex(COOKIE_BYTES).upper()


def peer_config(nodes: Sequence[str]) -> str:
    """The ``rabbitmq.conf`` lines that make each node find the others: a static list; a node
    cut off from the majority pauses (closes its clients' connections, so they fail over)
    instead of serving what it holds alone."""
    lines = [
        "cluster_formation.peer_discovery_backend = classic_config",
        "cluster_partition_handling = pause_minority",
    ]
    lines += [
        f"cluster_formation.classic_config.nodes.{number} = {node}"
        for number, node in enumerate(nodes, start=1)
    ]
    return "\n".join(lines) + "\n"


def joined_urls(urls: Sequence[str]) -> str:
    """The value of ``DOTCLOUD_<NAME>_AMQP_URLS``: every node's URL in kombu's failover form."""
    return URL_SEPARATOR.join(urls)


# The ports the nodes speak to one another on (besides AMQP): Erlang's port mapper, the same
# on every node since each is a host of its own (network namespace, pod or machine), and the
# distribution port (the AMQP port + 20000); and the management API (KEDA's queue length).
EPMD_PORT = 4369
DISTRIBUTION_PORT = 25672
MANAGEMENT_PORT = 15672
# The tag of a management API account that reads every queue's figures and changes nothing.
MONITORING_TAG = "monitoring"


def check_size(size: int, where: str) -> int:
    """``size`` when it is a cluster size we run; UsageError naming the rule otherwise."""
    if size not in SIZES:
        raise UsageError(
            f"{where}: a RabbitMQ service runs {' or '.join(map(str, SIZES))} node(s), not "
            f"{size} (a cluster of 2 loses its majority with either node; 3 survives one loss)"
        )
    return size


def join(  # noqa: ANN201 - a ClusterJoin
    service: str, index: int, size: int, cookie: str, login: tuple[str, str] | None = None
):
    """What backing_services needs to run node ``index`` of ``service``'s ``size`` nodes
    (``login``: the cluster's user and password, which a joining node takes)."""
    from backing_services.rabbitmq_node import ClusterJoin

    return ClusterJoin(
        node=node_name(service, index),
        cookie=cookie,
        peer_config=peer_config(node_names(service, size)),
        epmd_port=EPMD_PORT,
        seed=index == 0,
        login=login,
    )
