"""What Podman 4.3 lacks, translated for the local run only (the manifests stay as exported).

* a Secret played by ``podman kube play`` is stored as YAML while the containers read it as a
  JSON map of base64 values (podman issue 16269): each Secret becomes ``podman secret create``
  input holding the same ``data``;
* a StatefulSet is silently ignored: one of a single replica becomes a Pod named after its
  Service (so that its DNS name, ``db``, resolves on the network), with its template's spec and
  its claim as a named volume; one of several replicas (a RabbitMQ cluster) becomes one Pod per
  replica named as Kubernetes names them (``broker-0``…), each with a claim of its own, its
  ConfigMap and Secret volumes as files of the runner's, and the pods' DNS names under their
  Service (``broker-0.broker.<namespace>``) shortened to the pod names Podman's DNS resolves,
  in those files, in the environment and in the Secrets (the nodes then take short names);
* a Service is ignored too: the data Services are the pods' names, and the web Service is a
  router (nginx from the web image) publishing one loopback port to the Deployment's pods.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from platform_sim.kinds.rabbitmq_cluster import needs_long_names

LONG_NAMES_VARIABLE = "RABBITMQ_USE_LONGNAME"

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


def claim_volume(namespace: str, claim: str, stateful_set: str, replica: int = 0) -> str:
    """The volume of a replica's claim, named as Kubernetes names the claim, plus the namespace."""
    return f"{namespace}-{claim}-{stateful_set}-{replica}"


def data_pod(
    stateful_set: Mapping[str, Any], namespace: str, replica: int | None = None
) -> dict[str, Any]:
    """The Pod a replica of a StatefulSet would be: the only one named after its (headless)
    Service, or replica ``replica`` named as Kubernetes names it (``<set>-<N>``)."""
    spec = stateful_set["spec"]
    template = copy.deepcopy(spec["template"])
    pod_spec = template["spec"]
    pod_spec.pop("affinity", None)  # one machine
    volumes = list(pod_spec.get("volumes", []))
    for claim in spec.get("volumeClaimTemplates", []):
        name = claim["metadata"]["name"]
        volume = claim_volume(namespace, name, stateful_set["metadata"]["name"], replica or 0)
        volumes.append({"name": name, "persistentVolumeClaim": {"claimName": volume}})
    pod_spec["volumes"] = volumes
    for container in pod_spec["containers"]:
        container.pop("ports", None)  # Podman 4.3 would publish them on the host
    name = spec["serviceName"]
    if replica is not None:
        name = f"{stateful_set['metadata']['name']}-{replica}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": template["metadata"]["labels"]},
        "spec": pod_spec,
    }


def pod_names(deployment: Mapping[str, Any]) -> list[str]:
    """The pods ``podman kube play`` makes of a Deployment: ``<name>-pod-<N>``."""
    name = deployment["metadata"]["name"]
    return [f"{name}-pod-{number}" for number in range(deployment["spec"].get("replicas", 1))]


# What the kubelet does for an httpGet probe, run in the pod's container with the image's own
# Python (Debian's): a GET on the pod's port, no redirect followed, 200-399 is ready.
HTTP_GET = (
    "import http.client, json, sys\n"
    "port, path, headers = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])\n"
    "connection = http.client.HTTPConnection('127.0.0.1', port, timeout=5)\n"
    "connection.request('GET', path, headers=headers)\n"
    "sys.exit(0 if 200 <= connection.getresponse().status < 400 else 1)\n"
)


def probe_command(probe: Mapping[str, Any]) -> list[str] | None:
    """The command that answers a readiness probe inside the container (None: none needed)."""
    if "exec" in probe:
        return list(probe["exec"]["command"])
    if "httpGet" in probe:
        get = probe["httpGet"]
        headers = {header["name"]: header["value"] for header in get.get("httpHeaders", [])}
        return [
            "python3", "-I", "-c", HTTP_GET, str(get["port"]), get.get("path", "/"),
            json.dumps(headers),
        ]
    return None


def router_conf(service: str, upstreams: Iterable[tuple[str, int]]) -> str:
    """nginx in front of the web pods, by pod name (Podman's DNS on the network)."""
    servers = "".join(f"        server {host}:{port} max_fails=0;\n" for host, port in upstreams)
    return ROUTER_CONF.format(service=service, servers=servers)


def replicas(stateful_set: Mapping[str, Any]) -> int:
    """How many pods a StatefulSet asks for."""
    return int(stateful_set["spec"].get("replicas", 1))


def pod_dns_names(stateful_sets: Iterable[Mapping[str, Any]], namespace: str) -> re.Pattern:
    """``<set>-<N>.<service>.<namespace>``: the pods of the StatefulSets of several replicas
    by their DNS names on a cluster (the pattern matches nothing when there are none)."""
    choices = [
        rf"({re.escape(sts['metadata']['name'])}-[0-9]+)\.{re.escape(sts['spec']['serviceName'])}"
        for sts in stateful_sets
        if replicas(sts) > 1
    ]
    if not choices:
        return re.compile(r"(?!)")
    return re.compile(rf"\b(?:{'|'.join(choices)})\.{re.escape(namespace)}\b")


def local_names(text: str, names: re.Pattern) -> str:
    """``text`` with each pod's DNS name replaced by the pod's name."""
    return names.sub(lambda found: next(group for group in found.groups() if group), text)


def local_secret(secret: Mapping[str, Any], names: re.Pattern) -> dict[str, Any]:
    """The Secret with the pods' DNS names in its values shortened to the pod names."""
    made = copy.deepcopy(dict(secret))
    made["data"] = {
        key: base64.b64encode(local_names(base64.b64decode(value).decode(), names).encode())
        .decode("ascii")
        for key, value in (secret.get("data") or {}).items()
    }
    return made


def stateful_pods(
    stateful_set: Mapping[str, Any],
    namespace: str,
    sources: Mapping[str, Mapping[str, Any]],
    folder: Path,
    names: re.Pattern,
) -> tuple[list[dict[str, Any]], dict[Path, tuple[str, int]]]:
    """The pods of a StatefulSet and the files their ConfigMap and Secret volumes become.

    ``sources`` are the ConfigMaps and Secrets by name (a Secret's values base64, as
    exported); the files go under ``folder``, one folder per pod and volume."""
    if replicas(stateful_set) == 1:
        return [data_pod(stateful_set, namespace)], {}
    pods, files = [], {}
    for number in range(replicas(stateful_set)):
        pod = data_pod(stateful_set, namespace, number)
        name = pod["metadata"]["name"]
        volumes = []
        for volume in pod["spec"]["volumes"]:
            source = volume.get("configMap") or volume.get("secret")
            if source is None:
                volumes.append(volume)
                continue
            where = folder / f"{name}-{volume['name']}"
            mode = int(source.get("defaultMode", 0o644)) & 0o444
            for key, value in _items(sources[source.get("name") or source.get("secretName")]):
                files[where / key] = (local_names(value, names), mode)
            volumes.append(
                {"name": volume["name"], "hostPath": {"path": str(where), "type": "Directory"}}
            )
        pod["spec"]["volumes"] = volumes
        for container in pod["spec"]["containers"]:
            container["env"] = _local_env(container.get("env", []), name, names)
        pods.append(pod)
    return pods, files


def _items(source: Mapping[str, Any]) -> list[tuple[str, str]]:
    if source["kind"] == "Secret":
        return [(k, base64.b64decode(v).decode()) for k, v in (source.get("data") or {}).items()]
    return list((source.get("data") or {}).items())


def _local_env(env: list[dict[str, Any]], pod: str, names: re.Pattern) -> list[dict[str, Any]]:
    """The pod's name for ``metadata.name``, ``$(VAR)`` expanded as Kubernetes does, the pods'
    DNS names shortened, and the nodes' names short (they no longer hold dots)."""
    values: dict[str, str] = {}
    made = []
    for item in env:
        field = item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field == "metadata.name":
            value = pod
        elif "value" in item:
            value = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                           lambda m: values.get(m[1], m[0]), str(item["value"]))
            value = local_names(value, names)
        else:
            made.append(item)
            continue
        if item["name"] == LONG_NAMES_VARIABLE:
            value = str(needs_long_names("")).lower()
        values[item["name"]] = value
        made.append({"name": item["name"], "value": value})
    return made
