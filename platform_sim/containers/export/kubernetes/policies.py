"""NetworkPolicies: nothing reaches a pod unless allowed; the data services only from the app's
pods, the web pods only from the Ingress controller's namespace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from platform_sim.appfile.buildfile import Service
from platform_sim.containers.export.kubernetes.meta import Target, labels, metadata, selector
from platform_sim.containers.facts import WEB_PORT
from platform_sim.kinds.registry import KINDS

DEFAULT_INGRESS_NAMESPACE = "ingress-nginx"  # where ingress-nginx, the common controller, runs
# Set by Kubernetes on every namespace (1.21 and later): selects a namespace by its name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
SERVICE_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"


def _policy(
    target: Target, name: str, service: str, pods: dict[str, Any], sources: list[dict[str, Any]]
) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": pods, "policyTypes": ["Ingress"]}
    if sources:
        spec["ingress"] = sources
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(target, name, service),
        "spec": spec,
    }


def deny_all(target: Target) -> dict[str, Any]:
    """Every pod of the namespace accepts nothing that another policy does not allow."""
    return _policy(target, "default-deny", target.app.lower(), {}, [])


def from_code(target: Target, data: Service, code: Sequence[Service]) -> dict[str, Any]:
    """The data service's port, from the app's code pods only (this app's, this namespace's)."""
    peers = {
        "podSelector": {
            "matchLabels": {INSTANCE_LABEL: labels(target, data.name)[INSTANCE_LABEL]},
            "matchExpressions": [
                {
                    "key": SERVICE_LABEL,
                    "operator": "In",
                    "values": sorted(service.name for service in code),
                }
            ],
        }
    }
    port = {"protocol": "TCP", "port": KINDS[data.type].port}
    return _policy(
        target, f"{data.name}-from-app", data.name, {"matchLabels": selector(target, data.name)},
        [{"from": [peers], "ports": [port]}],
    )


def from_ingress(target: Target, web: Service, ingress_namespace: str) -> dict[str, Any]:
    """The web pods' nginx, from the Ingress controller's namespace only."""
    peers = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ingress_namespace}}}
    return _policy(
        target, f"{web.name}-from-ingress", web.name, {"matchLabels": selector(target, web.name)},
        [{"from": [peers], "ports": [{"protocol": "TCP", "port": WEB_PORT}]}],
    )


def between_nodes(target: Target, data: Service, ports: Sequence[int]) -> dict[str, Any]:
    """A clustered data service's nodes reach one another on ``ports`` (the cluster's own)."""
    own = {"podSelector": {"matchLabels": selector(target, data.name)}}
    return _policy(
        target, f"{data.name}-between-nodes", data.name,
        {"matchLabels": selector(target, data.name)},
        [{"from": [own], "ports": [{"protocol": "TCP", "port": port} for port in ports]}],
    )


def from_namespace(
    target: Target, data: Service, namespace: str, port: int, name: str
) -> dict[str, Any]:
    """One port of a data service, from every pod of another namespace (an operator's)."""
    peers = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}
    return _policy(
        target, f"{data.name}-from-{name}", data.name,
        {"matchLabels": selector(target, data.name)},
        [{"from": [peers], "ports": [{"protocol": "TCP", "port": port}]}],
    )
