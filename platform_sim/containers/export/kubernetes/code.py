"""A code service as a Deployment, its environment as a Secret, and a disruption budget.

The Secret's variables reach the container as its environment; the image's entrypoint writes
them to ~/environment.json before postinstall, as the platform did. A Secret mounted with
``subPath`` would be the file itself on a cluster, but Podman 4.3 mounts a Secret as a folder
whatever the subPath, so the same manifests could not run under ``podman kube play``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platform_sim.appfile.buildfile import Service
from platform_sim.appfile.environment import HOME_INSIDE
from platform_sim.containers.export.kubernetes.meta import (
    Target,
    labels,
    metadata,
    secret,
    selector,
)
from platform_sim.containers.facts import (
    CODE_STOP_GRACE,
    CODE_UID,
    DROPPED_CAPABILITIES,
    WEB_PORT,
)

# On the pod template: a digest of the environment Secret. kubectl apply (and kube-play up)
# change only what differs, so without it a new environment would never reach the pods.
ENVIRONMENT_DIGEST = "checksum/environment"

# The container lists no ``ports`` (WEB_PORT is nginx's): Kubernetes takes them as
# information only, and Podman 4.3 would publish each on every address of the host (podman
# issue 17028).
REQUESTS = {
    "web": {"cpu": "100m", "memory": "256Mi"},
    "worker": {"cpu": "200m", "memory": "384Mi"},
}
# Every program of the container's supervisord RUNNING (exit status 0), else not alive/ready.
PROGRAMS_RUNNING = (f"{HOME_INSIDE}/platform/bin/supervisorctl", "status")
# postinstall (migrations, static files) runs when a pod starts: up to 10 minutes.
STARTUP = {"periodSeconds": 5, "failureThreshold": 120, "timeoutSeconds": 5}
# The pod runs as the image's account from the start (the image owns the home, the code and
# the log folders to it): no root, no capability; fsGroup gives it the volumes.
POD_ACCOUNT = {
    "runAsNonRoot": True,
    "runAsUser": CODE_UID,
    "runAsGroup": CODE_UID,
    "fsGroup": CODE_UID,
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": list(DROPPED_CAPABILITIES)},
}


def environment_name(service: Service) -> str:
    """The Secret holding one code service's environment.json."""
    return f"{service.name}-environment"


def environment_secret(
    target: Target, service: Service, environment: Mapping[str, str]
) -> dict[str, Any]:
    """The variables of environment.json, one key each (the image writes the file from them)."""
    return secret(target, environment_name(service), service.name, environment)


def _probes(service: Service) -> dict[str, Any]:
    if service.is_web:
        check: dict[str, Any] = {
            "httpGet": {
                "path": "/",
                "port": WEB_PORT,
                "httpHeaders": [{"name": "Host", "value": "localhost"}],
            }
        }
    else:
        check = {"exec": {"command": list(PROGRAMS_RUNNING)}}
    return {
        "startupProbe": {**check, **STARTUP},
        "readinessProbe": {**check, "periodSeconds": 10, "timeoutSeconds": 5},
        "livenessProbe": {
            **check,
            "periodSeconds": 20,
            "timeoutSeconds": 10,
            "failureThreshold": 6,
        },
    }


def deployment(
    target: Target,
    service: Service,
    image: str,
    replicas: int,
    environment_digest: str,
    more_secrets: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Replicas of the service's image, rolled one extra pod at a time, never one fewer.

    ``environment_digest`` (of the environment Secrets) changes the pods when a Secret does;
    ``more_secrets`` are Secrets whose keys join the environment Secret's variables.
    """
    container: dict[str, Any] = {
        "name": service.name,
        "image": image,
        "envFrom": [
            {"secretRef": {"name": name}} for name in (environment_name(service), *more_secrets)
        ],
        **_probes(service),
        "resources": {"requests": dict(REQUESTS["web" if service.is_web else "worker"])},
        "securityContext": CONTAINER_SECURITY,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(target, service.name, service.name),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector(target, service.name)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": labels(target, service.name),
                    "annotations": {ENVIRONMENT_DIGEST: environment_digest},
                },
                "spec": {
                    "terminationGracePeriodSeconds": CODE_STOP_GRACE,
                    "securityContext": {
                        "seccompProfile": {"type": "RuntimeDefault"},
                        **POD_ACCOUNT,
                    },
                    "enableServiceLinks": False,  # no WWW_PORT=… in the environment
                    "automountServiceAccountToken": False,  # the app never calls the API
                    "containers": [container],
                },
            },
        },
    }


def disruption_budget(target: Target, service: Service) -> dict[str, Any]:
    """At most one replica evicted at a time (only exported when there are several)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(target, service.name, service.name),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(target, service.name)}},
    }
