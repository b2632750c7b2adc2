"""A RabbitMQ service of 3 nodes: a StatefulSet of 3 that forms one cluster, and what it needs.

The nodes have long names after their pods' DNS names under the headless Service
(``rabbit@broker-1.broker.<namespace>``, resolved through the pod's search path, whatever the
cluster's domain), find one another from a static peer list in a ConfigMap (classic_config),
share an Erlang cookie kept in a Secret, and are ready only as members of the cluster: booted, no
alarm, and running beside a majority of their configured peers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from platform_sim.appfile.buildfile import Service
from platform_sim.appfile.environment import Endpoint, data_service_variables
from platform_sim.containers.export.kubernetes import code, policies
from platform_sim.containers.export.kubernetes.meta import Target, metadata, secret, selector
from platform_sim.kinds import rabbitmq_cluster as nodes
from platform_sim.kinds.base import DOTCLOUD_TAGS

KIND = "rabbitmq"
HOSTNAME_KEY = "kubernetes.io/hostname"
POD_NAME = "POD_NAME"
COOKIE_KEY = "cookie"
COOKIE_MODE = 0o400
COOKIE_INSIDE = "/run/secrets/rabbitmq-cookie"
CONFIG_KEY = "cluster.conf"
CONFIG_INSIDE = "/etc/rabbitmq/cluster"


def size(service: Service, scale: Mapping[str, int]) -> int:
    """The number of nodes asked for (``scale`` first), checked: 1 or 3."""
    asked = scale.get(service.name, service.instances)
    if service.type != KIND:
        return asked
    where = f"service {service.name!r} (line {service.position[0]} of dotcloud.yml)"
    return nodes.check_size(asked, where)


def is_cluster(service: Service, scale: Mapping[str, int]) -> bool:
    """Whether the service is exported as a cluster (a RabbitMQ service of 3 nodes)."""
    return service.type == KIND and size(service, scale) > 1


def domain(target: Target, service: Service) -> str:
    """What follows a pod's name in its DNS name: ``<service>.<namespace>``."""
    return f"{service.name}.{target.namespace}"


def node_endpoints(target: Target, service: Service, endpoint: Endpoint, count: int) -> list:
    """The endpoint of each node (node 0 first): the same login, each pod's DNS name."""
    where = domain(target, service)
    return [replace(endpoint, host=nodes.node_host(service.name, n, where)) for n in range(count)]


def urls_variable(service: Service, endpoints: list[Endpoint]) -> dict[str, str]:
    """``DOTCLOUD_<NAME>_AMQP_URLS``: every node's ``_URL``, in kombu's failover form."""
    tag = DOTCLOUD_TAGS[service.type][0]
    prefix = f"DOTCLOUD_{service.name.upper()}_{tag}_"
    urls = [data_service_variables(service, e)[f"{prefix}URL"] for e in endpoints]
    return {f"{prefix}{nodes.URLS_SUFFIX}": nodes.joined_urls(urls)}


def cookie_name(service: Service) -> str:
    """The Secret holding the cluster's Erlang cookie."""
    return f"{service.name}-cookie"


def config_name(service: Service) -> str:
    """The ConfigMap holding the peer list."""
    return f"{service.name}-cluster"


def cookie_secret(
    target: Target, service: Service, earlier: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """The cookie every node shares: an earlier export's, else a new one."""
    kept = earlier.get(cookie_name(service), {}).get(COOKIE_KEY)
    return secret(
        target, cookie_name(service), service.name, {COOKIE_KEY: kept or nodes.new_cookie()}
    )


def peer_config_map(target: Target, service: Service, count: int) -> dict[str, Any]:
    """``rabbitmq.conf`` lines naming every node: each finds the others there."""
    names = nodes.node_names(service.name, count, domain(target, service))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(target, config_name(service), service.name),
        "data": {CONFIG_KEY: nodes.peer_config(names)},
    }


def member_check(count: int) -> list[str]:
    """The readinessProbe command of a node of ``count``: booted, no local alarm, one of the
    ``count`` peers it was configured with, and in a cluster where a majority of them run.

    A node that booted alone (its peers out of reach) runs a cluster of one: never ready. The
    peer list is the node's own (the ConfigMap, names as kube-play shortens them too); each
    condition fails as a named ``badmatch``, so the probe's output says which. One CLI start
    (``eval``, never ``halt()``), no shell: the Debian wrapper re-quotes it through ``sh -c``,
    so the expression holds no quote, ``$``, backquote or backslash."""
    clauses = (
        "{booted, true} = {booted, rabbit:is_booted(node())}",
        "{local_alarms, []} = {local_alarms, rabbit_alarm:get_local_alarms()}",
        "{ok, {Peers, _}} = application:get_env(rabbit, cluster_nodes)",
        f"{{peers, {count}, true}} = {{peers, length(Peers), lists:member(node(), Peers)}}",
        "Up = [N || N <- rabbit_nodes:all_running(), lists:member(N, Peers)]",
        f"{{running_peers, true, _}} = {{running_peers, 2 * length(Up) > {count}, Up}}",
        "ready",
    )
    return ["rabbitmqctl", "-q", "eval", ", ".join(clauses) + "."]


def headless_service(base: dict[str, Any]) -> dict[str, Any]:
    """The data service's headless Service, listing pods before they are ready (a booting node
    must resolve its peers), with the ports the nodes speak to one another on."""
    made = copy.deepcopy(base)
    made["spec"]["publishNotReadyAddresses"] = True
    made["spec"]["ports"] += [
        {"name": "epmd", "port": nodes.EPMD_PORT, "targetPort": nodes.EPMD_PORT},
        {"name": "cluster", "port": nodes.DISTRIBUTION_PORT, "targetPort": nodes.DISTRIBUTION_PORT},
    ]
    return made


def stateful_set(
    base: dict[str, Any], target: Target, service: Service, count: int
) -> dict[str, Any]:
    """``base`` (one node) as ``count`` nodes started together, spread over the machines."""
    made = copy.deepcopy(base)
    spec = made["spec"]
    spec["replicas"] = count
    # All at once: a node restarted after the others stopped waits for them to come back, so
    # one-by-one (OrderedReady) would wait forever after a full stop.
    spec["podManagementPolicy"] = "Parallel"
    pod = spec["template"]["spec"]
    pod["affinity"] = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": selector(target, service.name)},
                        "topologyKey": HOSTNAME_KEY,
                    },
                }
            ]
        }
    }
    pod["volumes"] = [
        {
            "name": "cookie",
            "secret": {"secretName": cookie_name(service), "defaultMode": COOKIE_MODE},
        },
        {"name": "cluster", "configMap": {"name": config_name(service)}},
    ]
    [container] = pod["containers"]
    container["env"] = [
        {"name": POD_NAME, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "RABBITMQ_NODENAME", "value": f"rabbit@$({POD_NAME}).{domain(target, service)}"},
        {"name": "RABBITMQ_USE_LONGNAME", "value": "true"},
        {"name": "RABBITMQ_ERLANG_COOKIE_FILE", "value": f"{COOKIE_INSIDE}/{COOKIE_KEY}"},
        {"name": "RABBITMQ_CONF_EXTRA_FILE", "value": f"{CONFIG_INSIDE}/{CONFIG_KEY}"},
        *container.get("env", []),
    ]
    container["volumeMounts"] += [
        {"name": "cookie", "mountPath": COOKIE_INSIDE, "readOnly": True},
        {"name": "cluster", "mountPath": CONFIG_INSIDE, "readOnly": True},
    ]
    # Ready only as a member, yet the cluster still forms: the headless Service lists pods
    # before they are ready (publishNotReadyAddresses, see headless_service), so booting nodes
    # find one another, and Parallel starts every pod without waiting for the others to be
    # ready (OrderedReady would wait for node 0, which waits for a majority: forever).
    container["readinessProbe"]["exec"]["command"] = member_check(count)
    return made


def extras(
    target: Target, service: Service, count: int, earlier: Mapping[str, Mapping[str, str]]
) -> list[dict[str, Any]]:
    """What a cluster adds to one node's objects: the cookie, the peer list, a budget of one
    node down at a time, and the nodes' ports open to one another."""
    return [
        cookie_secret(target, service, earlier),
        peer_config_map(target, service, count),
        code.disruption_budget(target, service),
        policies.between_nodes(target, service, (nodes.EPMD_PORT, nodes.DISTRIBUTION_PORT)),
    ]
