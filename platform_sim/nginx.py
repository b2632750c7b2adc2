"""nginx configurations: an instance's (in front of its WSGI server) and the app's router."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from .address import LOOPBACK, host_port
from .templates import INSTANCE_NGINX, ROUTER_NGINX, ROUTER_SERVER, render

MIME_TYPES = "/etc/nginx/mime.types"


def render_instance(
    *,
    app: str,
    instance: str,
    generation: int,
    home: str,
    port: int,
    mime_types: str | None = MIME_TYPES,
    address: str = LOOPBACK,
    user: str | None = "root",
) -> str:
    """The nginx.conf of a ``python`` instance: app's ``*nginx.conf``, maintenance → 503.

    ``user``: the account of nginx's workers when its master runs as root; None when nginx
    runs as an unprivileged account already (a code service's container).
    """
    include = ""
    if mime_types and os.path.exists(mime_types):
        include = f"    include {mime_types};\n"
    return render(
        INSTANCE_NGINX,
        {
            "app": app,
            "instance": instance,
            "generation": generation,
            "home": home,
            "port": port,
            "address": address,
            "mime_types": include,
            "user": f"user {user};\n" if user else "",
        },
    )


def render_router(
    *,
    app: str,
    generation: int,
    directory: str,
    services: Mapping[str, tuple[int, Sequence[int]]],
    address: str = LOOPBACK,
    upstream_hosts: Mapping[int, str] | None = None,
    forwarder: str | None = None,
) -> str:
    """The router's nginx.conf: per web service, its public port → its instances' ports.

    Given ``forwarder`` (the address the loopback forwarder connects from), each server
    expects the PROXY protocol and takes the client's address from it, from there only.
    """
    hosts = upstream_hosts or {}
    real_ip = ""
    if forwarder:
        real_ip = f"        set_real_ip_from {forwarder};\n        real_ip_header proxy_protocol;\n"
    servers = "".join(
        render(
            ROUTER_SERVER,
            {
                "service": name,
                "port": port,
                "address": address,
                "proxy_protocol": " proxy_protocol" if forwarder else "",
                "real_ip": real_ip,
                "upstreams": "".join(
                    f"        server {host_port(upstream, hosts.get(upstream, LOOPBACK))} "
                    "max_fails=0;\n"
                    for upstream in upstreams
                ),
            },
        )
        for name, (port, upstreams) in services.items()
    )
    return render(
        ROUTER_NGINX,
        {"app": app, "generation": generation, "directory": directory, "servers": servers},
    )
