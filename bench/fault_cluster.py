"""The fault bench's scenarios on a 3-node RabbitMQ cluster: the node leading the app's queue
SIGKILLed, the node the app connects to first cut off from the other two, a rolling restart.

Each is a scenario of ``bench/faults.py`` (``(site, faults, seconds)``, returning when the fault
is over); the nodes are reached through platform_sim's own records and tools.
"""

from __future__ import annotations

import json
import sys
import time

from platform_sim.faults import sites

SERVICE = "broker"
NODES = 3
# The queue the workers consume: ``default`` (a classic queue on main), or the quorum queue
# that replaces it (``default.quorum``): the first of these the broker has.
APP_QUEUES = ("default.quorum", "default")
MEMBER_WITHIN = 120.0


def context(site):  # noqa: ANN001, ANN201 - a bench Deployment; a platform_sim Context
    """platform_sim's collaborators for the pushed app."""
    from platform_sim.apps import app_paths
    from platform_sim.context import make_context
    from platform_sim.output import Printer

    return make_context(app_paths(site.root.name, site.env), Printer(sys.stderr), site.env)


def nodes(ctx):  # noqa: ANN001, ANN201 - a Context; the broker's nodes (DataService)
    """The broker's nodes as they are now, node 0 first."""
    from platform_sim.services import cluster

    return cluster.present(SERVICE, "rabbitmq", ctx.paths.service(SERVICE))


def queue_leader(ctx) -> int:  # noqa: ANN001
    """The number of the node leading the app's queue (a classic queue: the node holding it,
    node 0 where the app declares it)."""
    from platform_sim.services import cluster

    found = json.loads(
        cluster.ctl(ctx.data, nodes(ctx)[0], "list_queues", "name", "leader", "--formatter", "json")
    )
    leaders = {queue["name"]: queue.get("leader") for queue in found}
    for name in APP_QUEUES:
        if leaders.get(name):  # rabbit@broker-<n>
            return int(leaders[name].rsplit("-", 1)[1])
    return 0


def leader_kill(site, faults, seconds: float) -> None:  # noqa: ANN001
    """SIGKILL the beam.smp of the node leading the app's queue; its host restarts it."""
    ctx = context(site)
    leader = nodes(ctx)[queue_leader(ctx)]
    faults.kill(sites.server_main(leader.folder, "rabbitmq"), f"beam.smp of {leader.label}")


def node_partition(site, faults, seconds: float) -> None:  # noqa: ANN001
    """Cut node 0 (the one the app connects to first) off from the other two nodes for
    ``seconds``: firewall rules inside the namespaces; the majority keeps serving and node 0
    pauses itself (``pause_minority``), so the app fails over to the majority."""
    ctx = context(site)
    first, *others = nodes(ctx)
    cut = [
        faults.partition(
            endpoint(ctx, first), endpoint(ctx, other), f"{first.label} | {other.label}"
        )
        for other in others
    ]
    time.sleep(seconds)
    for fault in cut:
        faults.undo(fault)


def rolling_restart(site, faults, seconds: float) -> None:  # noqa: ANN001
    """Restart the nodes one after the other, the last first, each back as a member (and
    holding its quorum queues' replicas) before the next stops."""
    ctx = context(site)
    for node in reversed(nodes(ctx)):
        fault = faults.stop_service(
            f"{node.label} (rolling restart)",
            lambda node=node: ctx.data.stop(node),
            lambda node=node: ctx.data.ensure(node),
        )
        faults.hold(fault, seconds)


def endpoint(ctx, node):  # noqa: ANN001, ANN201 - an inject.Endpoint
    """The namespace and address of a node's host."""
    from platform_sim.faults.inject import Endpoint

    host = ctx.network.host(node.host_key, node.host_names)
    return Endpoint(host.netns, host.address)
