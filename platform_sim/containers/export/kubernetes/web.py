"""A web service's router (a Service in front of its replicas, an Ingress) and its admin Secret."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from platform_sim.appfile.buildfile import Service
from platform_sim.containers.export.kubernetes.meta import Target, metadata, secret, selector
from platform_sim.containers.facts import WEB_PORT

# The variable minestrone's mkadmin.py sets the ``admin`` password from (kept in step with it).
ADMIN_PASSWORD_VARIABLE = "MINESTRONE_ADMIN_PASSWORD"  # noqa: S105 - a variable name


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


def admin_name(web: Service) -> str:
    """The Secret holding the web service's admin password."""
    return f"{web.name}-admin"


def admin_password(variables: Mapping[str, str], earlier: Mapping[str, Mapping[str, str]],
                   web: Service) -> str:
    """The admin password: given (``-e``, ``env set``), else an earlier export's, else new.

    It lives in a Secret, not in a pod's disk: a restarted or rolled pod finds it again, and
    ``kubectl get secret`` shows it to whoever may read the namespace's Secrets.
    """
    return (
        variables.get(ADMIN_PASSWORD_VARIABLE)
        or earlier.get(admin_name(web), {}).get(ADMIN_PASSWORD_VARIABLE)
        or secrets.token_urlsafe(18)
    )


def admin_secret(target: Target, web: Service, password: str) -> dict[str, Any]:
    """The Secret the web pods take ``MINESTRONE_ADMIN_PASSWORD`` from (no other pod does)."""
    return secret(target, admin_name(web), web.name, {ADMIN_PASSWORD_VARIABLE: password})
