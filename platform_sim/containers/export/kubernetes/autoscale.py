"""``--autoscale SVC=MIN:MAX``: KEDA scales a worker Deployment on the length of its queue.

The trigger reads the queue through RabbitMQ's management API (protocol http, mode
QueueLength): its ``messages`` count ready and unacknowledged jobs alike, so running jobs keep
their pods. It logs in as an account of its own, tagged monitoring and allowed nothing else,
that the broker makes at start from a Secret; the trigger's URL is in another Secret, named by
a TriggerAuthentication.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from platform_sim.appfile.buildfile import BuildFile, Service
from platform_sim.containers.export.kubernetes import policies
from platform_sim.containers.export.kubernetes.meta import Target, metadata, secret
from platform_sim.errors import UsageError
from platform_sim.kinds.rabbitmq_cluster import MANAGEMENT_PORT

RANGE = re.compile(r"^([0-9]{1,6}):([0-9]{1,6})$")
EXAMPLE = "workers=1:5"
KEDA_API = "keda.sh/v1alpha1"
KEDA_NAMESPACE = "keda"  # where KEDA's operator runs when installed as documented
MONITORING_LOGIN = "keda"
USER_VARIABLE = "RABBITMQ_MONITORING_USER"
PASSWORD_VARIABLE = "RABBITMQ_MONITORING_PASS"  # noqa: S105 - a variable name
HOST_KEY = "host"
# The app's queue on RabbitMQ (minestrone/queues.py's QUORUM_QUEUE: a unit test holds the two
# equal) and the jobs one worker pod takes on at once: 2 processes (celeryd -c 2), each holding
# one job ahead (prefetch multiplier 1).
QUEUE = "default.quorum"
JOBS_PER_POD = 4
# Scale down only after the queue stayed short this long (a pod leaving finishes its job).
SCALE_DOWN_WINDOW = 300


@dataclass(frozen=True)
class Scaling:
    """One service's bounds: KEDA keeps its replicas from ``low`` to ``high``."""

    service: str
    low: int
    high: int


def parse(words: Iterable[str], buildfile: BuildFile) -> dict[str, Scaling]:
    """Each ``SVC=MIN:MAX``, checked against the build file; UsageError in one line."""
    found: dict[str, Scaling] = {}
    for word in words:
        name, sep, bounds = word.partition("=")
        shown = f"--autoscale {word[:60]!r}"
        if not sep:
            raise UsageError(f"{shown}: write SVC=MIN:MAX, e.g. {EXAMPLE}")
        matched = RANGE.fullmatch(bounds)
        if not matched:
            raise UsageError(f"{shown}: the range must be MIN:MAX, two whole numbers (e.g. 1:5)")
        low, high = int(matched[1]), int(matched[2])
        if low < 1:
            raise UsageError(f"{shown}: MIN must be at least 1 (a worker waits for the queue)")
        if high < low:
            raise UsageError(f"{shown}: MAX must be at least MIN, the range {low}:{high} is empty")
        _check_service(buildfile, name, shown)
        if name in found:
            raise UsageError(f"--autoscale {name} is given twice: keep one")
        found[name] = Scaling(name, low, high)
    return found


def _check_service(buildfile: BuildFile, name: str, shown: str) -> None:
    service = buildfile.services.get(name)
    workers = [s.name for s in buildfile.code_services() if not s.is_web]
    if service is None or not service.is_code or service.is_web:
        raise UsageError(
            f"{shown}: dotcloud.yml has no worker service {name[:40]!r} to scale on the queue "
            f"(its workers: {', '.join(workers) or 'none'})"
        )


def broker_of(buildfile: BuildFile, externals: Iterable[str]) -> Service:
    """The in-cluster RabbitMQ service whose queue the workers follow; UsageError if none."""
    brokers = [s for s in buildfile.data_services() if s.type == "rabbitmq"]
    if len(brokers) != 1 or brokers[0].name in set(externals):
        raise UsageError(
            "--autoscale reads the queue through the in-cluster RabbitMQ's management API: "
            "dotcloud.yml needs exactly one rabbitmq service, not given with --external"
        )
    return brokers[0]


def monitoring_name(broker: Service) -> str:
    """The Secret the broker makes its monitoring account from."""
    return f"{broker.name}-monitoring"


def trigger_name(service: str) -> str:
    """The TriggerAuthentication (and its Secret) of one scaled service."""
    return f"{service}-rabbitmq-trigger"


def monitoring_password(broker: Service, earlier: Mapping[str, Mapping[str, str]]) -> str:
    """An earlier export's monitoring password, else a new one."""
    kept = earlier.get(monitoring_name(broker), {}).get(PASSWORD_VARIABLE)
    return kept or secrets.token_urlsafe(24)


def monitoring_secret(target: Target, broker: Service, password: str) -> dict[str, Any]:
    """The account the broker's entrypoint makes once the node is up."""
    values = {USER_VARIABLE: MONITORING_LOGIN, PASSWORD_VARIABLE: password}
    return secret(target, monitoring_name(broker), broker.name, values)


def monitored(
    target: Target,
    broker: Service,
    password: str,
    headless: dict[str, Any],
    stateful_set: dict[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """The broker's objects for the trigger: the account's Secret and the management API open
    to KEDA's namespace (new objects), its Service with the API's port, its StatefulSet with the
    account's Secret."""
    service = copy.deepcopy(headless)
    service["spec"]["ports"].append(
        {"name": "management", "port": MANAGEMENT_PORT, "targetPort": MANAGEMENT_PORT}
    )
    made = copy.deepcopy(stateful_set)
    [container] = made["spec"]["template"]["spec"]["containers"]
    container["envFrom"].append({"secretRef": {"name": monitoring_name(broker)}})
    policy = policies.from_namespace(target, broker, KEDA_NAMESPACE, MANAGEMENT_PORT, "keda")
    return [monitoring_secret(target, broker, password), policy], service, made


def management_url(target: Target, broker: Service, password: str) -> str:
    """The management API through the broker's Service, as the monitoring account."""
    login = f"{MONITORING_LOGIN}:{quote(password, safe='')}"
    return f"http://{login}@{broker.name}.{target.namespace}.svc:{MANAGEMENT_PORT}/"


def objects(
    target: Target, scaling: Scaling, broker: Service, password: str
) -> list[dict[str, Any]]:
    """The trigger's Secret, its TriggerAuthentication and the ScaledObject."""
    name = trigger_name(scaling.service)
    url = management_url(target, broker, password)
    authentication = {
        "apiVersion": KEDA_API,
        "kind": "TriggerAuthentication",
        "metadata": metadata(target, name, scaling.service),
        "spec": {
            "secretTargetRef": [{"parameter": HOST_KEY, "name": name, "key": HOST_KEY}],
        },
    }
    scaled = {
        "apiVersion": KEDA_API,
        "kind": "ScaledObject",
        "metadata": metadata(target, scaling.service, scaling.service),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                               "name": scaling.service},
            "minReplicaCount": scaling.low,
            "maxReplicaCount": scaling.high,
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleDown": {"stabilizationWindowSeconds": SCALE_DOWN_WINDOW}
                    }
                }
            },
            "triggers": [
                {
                    "type": "rabbitmq",
                    "metadata": {
                        "protocol": "http",
                        "mode": "QueueLength",
                        "value": str(JOBS_PER_POD),
                        "queueName": QUEUE,
                        "vhostName": "/",
                    },
                    "authenticationRef": {"name": name},
                }
            ],
        },
    }
    return [secret(target, name, scaling.service, {HOST_KEY: url}), authentication, scaled]
