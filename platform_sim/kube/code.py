"""A code service as a Deployment, its environment.json as a Secret, and a disruption budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..buildfile import Service
from ..environment import HOME_INSIDE, render_json
from .meta import Target, labels, metadata, secret, selector

ENVIRONMENT_FILE = "environment.json"
WEB_PORT = 8080  # nginx in the web service's container; the Service maps port 80 to it
# supervisord stops djcelery with a 60 s warm shutdown, then celerycam (30 s): room for both.
STOP_GRACE = 120
REQUESTS = {
    "web": {"cpu": "100m", "memory": "256Mi"},
    "worker": {"cpu": "200m", "memory": "384Mi"},
}
# Every program of the container's supervisord RUNNING (exit status 0), else not alive/ready.
PROGRAMS_RUNNING = ("supervisorctl", "status")
# postinstall (migrations, static files) runs when a pod starts: up to 10 minutes.
STARTUP = {"periodSeconds": 5, "failureThreshold": 120, "timeoutSeconds": 5}
RUN_AS = 1000  # the image's ``dotcloud`` user


def environment_name(service: Service) -> str:
    """The Secret holding one code service's environment.json."""
    return f"{service.name}-environment"


def environment_secret(
    target: Target, service: Service, environment: Mapping[str, str]
) -> dict[str, Any]:
    """The environment every replica reads at ~/environment.json."""
    values = {ENVIRONMENT_FILE: render_json(environment)}
    return secret(target, environment_name(service), service.name, values)


def _probes(service: Service) -> dict[str, Any]:
    if service.is_web:
        check: dict[str, Any] = {
            "httpGet": {
                "path": "/",
                "port": "http",
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


def deployment(target: Target, service: Service, image: str, replicas: int) -> dict[str, Any]:
    """Replicas of the service's image, rolled one extra pod at a time, never one fewer."""
    container: dict[str, Any] = {
        "name": service.name,
        "image": image,
        "volumeMounts": [
            {
                "name": "environment",
                "mountPath": f"{HOME_INSIDE}/{ENVIRONMENT_FILE}",
                "subPath": ENVIRONMENT_FILE,
                "readOnly": True,
            }
        ],
        **_probes(service),
        "resources": {"requests": dict(REQUESTS["web" if service.is_web else "worker"])},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if service.is_web:
        container["ports"] = [{"name": "http", "containerPort": WEB_PORT}]
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
                "metadata": {"labels": labels(target, service.name)},
                "spec": {
                    "terminationGracePeriodSeconds": STOP_GRACE,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS,
                        "runAsGroup": RUN_AS,
                        "fsGroup": RUN_AS,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "environment",
                            "secret": {
                                "secretName": environment_name(service),
                                "defaultMode": 0o440,
                            },
                        }
                    ],
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
