"""What every exported object shares: metadata, labels, and the Secret encoding."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MANAGED_BY = "platform_sim"


@dataclass(frozen=True)
class Target:
    """Where and under which names the objects go: namespace, app, images."""

    app: str
    namespace: str
    image_prefix: str
    tag: str


def labels(target: Target, service: str) -> dict[str, str]:
    """The labels of one service's objects (the selector uses the first two)."""
    return {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/instance": target.app.lower(),
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def selector(target: Target, service: str) -> dict[str, str]:
    """The pod selector of one service (immutable on a Deployment: never changes)."""
    full = labels(target, service)
    return {key: full[key] for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def metadata(target: Target, name: str, service: str) -> dict[str, Any]:
    """``metadata`` of a namespaced object."""
    return {"name": name, "namespace": target.namespace, "labels": labels(target, service)}


def secret(target: Target, name: str, service: str, values: Mapping[str, str]) -> dict[str, Any]:
    """An Opaque Secret; values base64 under ``data`` (what every client, Podman too, reads)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(target, name, service),
        "type": "Opaque",
        "data": {
            key: base64.b64encode(value.encode("utf-8")).decode("ascii")
            for key, value in sorted(values.items())
        },
    }


def data_digest(secret_object: Mapping[str, Any]) -> str:
    """A sha256 of a Secret's data: a pod-template annotation, so a changed Secret rolls pods."""
    text = json.dumps(secret_object.get("data") or {}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
