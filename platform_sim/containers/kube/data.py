"""A data service as a StatefulSet with its volume, a headless Service and a credentials Secret."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from platform_sim.appfile.buildfile import Service
from platform_sim.appfile.environment import Endpoint
from platform_sim.containers.kube.meta import Target, labels, metadata, secret, selector
from platform_sim.services import approle


@dataclass(frozen=True)
class DataKind:
    """How one data service type runs in a container: port, data folder, settings, check."""

    port: int
    port_name: str
    data_path: str
    credential_variables: tuple[str, str]  # the login's, then the password's
    ready: tuple[str, ...]
    extra: tuple[tuple[str, str], ...] = ()
    app_role: bool = False  # the image gives the app a role of its own (``approle``)


# The variables are the official images' (postgres, rabbitmq), which the images of
# ``image build`` honour too, so either kind of image runs from the same manifests.
KINDS = {
    "postgresql": DataKind(
        port=5432,
        port_name="postgresql",
        data_path="/var/lib/postgresql/data",
        credential_variables=("POSTGRES_USER", "POSTGRES_PASSWORD"),
        ready=("pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"),
        extra=(("PGDATA", "/var/lib/postgresql/data/pgdata"),),
        app_role=True,
    ),
    "rabbitmq": DataKind(
        port=5672,
        port_name="amqp",
        data_path="/var/lib/rabbitmq",
        credential_variables=("RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"),
        ready=("rabbitmq-diagnostics", "-q", "check_port_connectivity"),
    ),
}
LOGIN = "root"  # the platform's login on every data service
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
        "capabilities": {"drop": ["ALL"], "add": list(CAPABILITIES)},
    }


def credentials_name(service: Service) -> str:
    """The Secret holding a data service's generated login and password."""
    return f"{service.name}-credentials"


def new_endpoint(service: Service, password: str | None = None) -> Endpoint:
    """Where the app finds the service in the cluster: its Service's DNS name, new credentials."""
    kind = KINDS[service.type]
    return Endpoint(service.name, kind.port, LOGIN, password or secrets.token_urlsafe(24))


def app_endpoint(
    service: Service, endpoint: Endpoint, earlier: Mapping[str, Mapping[str, str]]
) -> Endpoint:
    """What the app logs in with: its own role (an earlier export's password kept) where the
    kind has one, else the platform's login."""
    if not KINDS[service.type].app_role:
        return endpoint
    kept = earlier.get(credentials_name(service), {}).get(approle.IMAGE_PASSWORD)
    return replace(
        endpoint,
        login=approle.LOGIN,
        password=kept or secrets.token_urlsafe(24),
        database=approle.DATABASE,
    )


def credentials(
    target: Target, service: Service, endpoint: Endpoint, app: Endpoint
) -> dict[str, Any]:
    """The Secret the server's container takes its settings from: the superuser's login and
    password, and the app's role to make (``app``, when it is not the superuser's)."""
    kind = KINDS[service.type]
    login, password = kind.credential_variables
    values = {login: endpoint.login, password: endpoint.password}
    if app != endpoint:
        values.update(approle.image_variables(app.password))
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
        "env": [{"name": name, "value": value} for name, value in kind.extra],
        "volumeMounts": [{"name": "data", "mountPath": kind.data_path}],
        "readinessProbe": {
            "exec": {"command": list(kind.ready)},
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
