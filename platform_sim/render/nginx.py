"""nginx configurations: an instance's (in front of its WSGI server) and the app's router."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence

from platform_sim.address import LOOPBACK, host_port
from platform_sim.render.templates import INSTANCE_NGINX, ROUTER_NGINX, ROUTER_SERVER, render

MIME_TYPES = "/etc/nginx/mime.types"
# A pod's nginx behind an Ingress, whose address is not known: any sender is believed, and the
# NetworkPolicy lets only the Ingress reach the web pods.
ANY_SENDER = {"0.0.0.0/0": True, "::/0": True}


def platform_proxy(instance_address: str) -> dict[str, bool]:
    """Who an instance's nginx believes on platform_sim: the hosts of the app's subnet (its
    router), not the machine's side of the bridge (``.1``); on loopback, loopback."""
    if ipaddress.ip_address(instance_address).is_loopback:
        return {f"{instance_address}/32": True}
    subnet = ipaddress.ip_network(f"{instance_address}/24", strict=False)
    return {str(subnet): True, f"{subnet.network_address + 1}/32": False}


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
    proxies: Mapping[str, bool] | None = None,
) -> str:
    """The nginx.conf of a ``python`` instance: app's ``*nginx.conf``, maintenance → 503.

    ``user``: the account of nginx's workers when its master runs as root; None when nginx
    runs as an unprivileged account already (a code service's container). ``proxies``: the
    networks (CIDR → believed or not) whose X-Forwarded-Proto is passed on; none: this nginx
    is the outermost proxy and says its own scheme.
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
            "proxies": "".join(
                f"        {network} {int(believed)};\n"
                for network, believed in (proxies or {}).items()
            ),
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
