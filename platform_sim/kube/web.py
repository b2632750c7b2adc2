"""A web service's router: a Service in front of its replicas and an Ingress from outside."""

from __future__ import annotations

from typing import Any

from ..buildfile import Service
from ..container_facts import WEB_PORT
from .meta import Target, metadata, selector


def service(target: Target, web: Service) -> dict[str, Any]:
    """Port 80 of the Service ``www`` → the replicas' nginx."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(target, web.name, web.name),
        "spec": {
            "selector": selector(target, web.name),
            "ports": [{"name": "http", "port": 80, "targetPort": WEB_PORT}],
        },
    }


def ingress(target: Target, web: Service, host: str | None, tls_secret: str | None) -> dict:
    """Every path of ``host`` (every host without one) to the Service; TLS when named."""
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {"service": {"name": web.name, "port": {"name": "http"}}},
                }
            ]
        }
    }
    if host:
        rule = {"host": host, **rule}
    spec: dict[str, Any] = {"rules": [rule]}
    if tls_secret:
        spec["tls"] = [{"hosts": [host], "secretName": tls_secret}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(target, web.name, web.name),
        "spec": spec,
    }
