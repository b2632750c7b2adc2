"""What Podman 4.3 lacks, translated for the local run only (the manifests stay as exported).

* a Secret played by ``podman kube play`` is stored as YAML while the containers read it as a
  JSON map of base64 values (podman issue 16269): each Secret becomes ``podman secret create``
  input holding the same ``data``;
* a StatefulSet is silently ignored: each becomes a Pod named after its Service (so that its DNS
  name, ``db``, resolves on the network), with its template's spec and its claim as a named
  volume;
* a Service is ignored too: the data Services are the pods' names, and the web Service is a
  router (nginx from the web image) publishing one loopback port to the Deployment's pods.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

ROUTER_CONF = """\
# Written by platform_sim's local Kubernetes runner: the Service {service} of the manifests.
worker_processes 1;
pid /tmp/router.pid;
error_log stderr;
events {{
    worker_connections 512;
}}
http {{
    access_log off;
    upstream {service} {{
{servers}    }}
    server {{
        listen 80;
        location / {{
            proxy_pass http://{service};
            proxy_set_header Host $http_host;
            # as an Ingress does: the client's address added, the scheme its own (the
            # outermost proxy believes no client's X-Forwarded-Proto)
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout http_502 http_503;
        }}
    }}
}}
"""


def secret_payload(secret: Mapping[str, Any]) -> bytes:
    """A Secret's ``data`` as Podman 4.3's containers read a secret: JSON of base64 values."""
    return json.dumps(dict(secret.get("data") or {}), sort_keys=True).encode()


def claim_volume(namespace: str, claim: str, stateful_set: str) -> str:
    """The volume of replica 0's claim, named as Kubernetes names the claim, plus the namespace."""
    return f"{namespace}-{claim}-{stateful_set}-0"


def data_pod(stateful_set: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The Pod replica 0 of a StatefulSet would be, named after its (headless) Service."""
    spec = stateful_set["spec"]
    template = copy.deepcopy(spec["template"])
    pod_spec = template["spec"]
    volumes = list(pod_spec.get("volumes", []))
    for claim in spec.get("volumeClaimTemplates", []):
        name = claim["metadata"]["name"]
        volume = claim_volume(namespace, name, stateful_set["metadata"]["name"])
        volumes.append({"name": name, "persistentVolumeClaim": {"claimName": volume}})
    pod_spec["volumes"] = volumes
    for container in pod_spec["containers"]:
        container.pop("ports", None)  # Podman 4.3 would publish them on the host
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": spec["serviceName"], "labels": template["metadata"]["labels"]},
        "spec": pod_spec,
    }


def pod_names(deployment: Mapping[str, Any]) -> list[str]:
    """The pods ``podman kube play`` makes of a Deployment: ``<name>-pod-<N>``."""
    name = deployment["metadata"]["name"]
    return [f"{name}-pod-{number}" for number in range(deployment["spec"].get("replicas", 1))]


def router_conf(service: str, upstreams: Iterable[tuple[str, int]]) -> str:
    """nginx in front of the web pods, by pod name (Podman's DNS on the network)."""
    servers = "".join(f"        server {host}:{port} max_fails=0;\n" for host, port in upstreams)
    return ROUTER_CONF.format(service=service, servers=servers)
