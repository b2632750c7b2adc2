"""A data service as a StatefulSet with its volume, a headless Service and a credentials Secret."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from platform_sim.appfile.buildfile import Service
from platform_sim.appfile.environment import Endpoint
from platform_sim.containers.export.kubernetes.meta import (
    Target,
    labels,
    metadata,
    secret,
    selector,
)
from platform_sim.containers.facts import DROPPED_CAPABILITIES
from platform_sim.kinds.base import APP_DATABASE, APP_LOGIN, PLATFORM_LOGIN
from platform_sim.kinds.registry import KINDS

VOLUME_SIZE = "1Gi"
REQUESTS = {"cpu": "100m", "memory": "256Mi"}
STOP_GRACE = 60
# The images' entrypoints start as root to own the volume, then run the server as its own
# account (setpriv); these are the only capabilities that takes.
CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID")


def container_security() -> dict[str, Any]:
    """No privilege escalation, every capability dropped but ``CAPABILITIES``."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": list(DROPPED_CAPABILITIES), "add": list(CAPABILITIES)},
    }


def credentials_name(service: Service) -> str:
    """The Secret holding a data service's generated login and password."""
    return f"{service.name}-credentials"


def new_endpoint(service: Service, earlier: Mapping[str, Mapping[str, str]]) -> Endpoint:
    """Where the app finds the service in the cluster: its Service's DNS name, the platform's
    login with an earlier export's password (kept), else a new one."""
    kind = KINDS[service.type]
    kept = earlier.get(credentials_name(service), {}).get(kind.container.password_variable)
    return Endpoint(service.name, kind.port, PLATFORM_LOGIN, kept or secrets.token_urlsafe(24))


def app_endpoint(
    service: Service, endpoint: Endpoint, earlier: Mapping[str, Mapping[str, str]]
) -> Endpoint:
    """What the app logs in with: its own role (an earlier export's password kept) where the
    kind has one, else the platform's login."""
    role = KINDS[service.type].container.app_role
    if role is None:
        return endpoint
    kept = earlier.get(credentials_name(service), {}).get(role.password)
    return replace(
        endpoint,
        login=APP_LOGIN,
        password=kept or secrets.token_urlsafe(24),
        database=APP_DATABASE,
    )


def credentials(
    target: Target, service: Service, endpoint: Endpoint, app: Endpoint
) -> dict[str, Any]:
    """The Secret the server's container takes its settings from: the superuser's login and
    password, and the app's role to make (``app``, when it is not the superuser's)."""
    kind = KINDS[service.type]
    app_password = app.password if app != endpoint else None
    values = kind.image_settings(endpoint.login, endpoint.password, app_password)
    return secret(target, credentials_name(service), service.name, values)


def headless_service(target: Target, service: Service) -> dict[str, Any]:
    """The Service whose DNS name (``db``) resolves to the server's pod."""
    kind = KINDS[service.type]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(target, service.name, service.name),
        "spec": {
            "clusterIP": "None",
            "selector": selector(target, service.name),
            "ports": [{"name": kind.port_name, "port": kind.port, "targetPort": kind.port}],
        },
    }


def stateful_set(
    target: Target, service: Service, image: str, storage_class: str | None
) -> dict[str, Any]:
    """One replica, its data on a claim of its own that outlives the pod."""
    kind = KINDS[service.type]
    claim: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": VOLUME_SIZE}},
    }
    if storage_class:
        claim["storageClassName"] = storage_class
    container = {
        "name": service.name,
        "image": image,
        "envFrom": [{"secretRef": {"name": credentials_name(service)}}],
        "env": [{"name": name, "value": value} for name, value in kind.container.kube_settings],
        "volumeMounts": [{"name": "data", "mountPath": kind.container.data_path}],
        "readinessProbe": {
            "exec": {"command": list(kind.container.kube_check)},
            "periodSeconds": 10,
            "timeoutSeconds": 10,
            "failureThreshold": 3,
        },
        "resources": {"requests": dict(REQUESTS)},
        "securityContext": container_security(),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(target, service.name, service.name),
        "spec": {
            "serviceName": service.name,
            "replicas": 1,
            "selector": {"matchLabels": selector(target, service.name)},
            "template": {
                "metadata": {"labels": labels(target, service.name)},
                "spec": {
                    "terminationGracePeriodSeconds": STOP_GRACE,
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "automountServiceAccountToken": False,  # the server never calls the API
                    "containers": [container],
                },
            },
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": claim}],
        },
    }
