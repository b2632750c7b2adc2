"""Who is asking: the client's address as the platform's front end saw it, and the network it
counts as (login throttling, the job rate limit)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest | None) -> str | None:
    """The address our first proxy saw; never one a client could choose.

    Each of the ``MINESTRONE_TRUSTED_PROXIES`` proxies in front of the app (the deployment's
    TRUSTED_PROXIES) appends the address it saw to X-Forwarded-For, so the client's is that many
    entries from the right; anything left of it came from the client and is ignored. With fewer
    entries, the address the nearest proxy saw (the last entry), else REMOTE_ADDR; None only
    when no valid address is known at all.
    """
    meta = getattr(request, "META", None) or {}
    hops = getattr(settings, "MINESTRONE_TRUSTED_PROXIES", 0)
    forwarded = [
        entry.strip() for entry in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()
    ]
    candidates = []
    if hops and forwarded:
        candidates = [forwarded[-hops] if len(forwarded) >= hops else "", forwarded[-1]]
    for address in (*candidates, meta.get("REMOTE_ADDR", "")):
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:
            continue
    return None


IPV6_CLIENT_PREFIX = 64  # one subscriber's share: ISPs hand out a /64 (or more) per customer


def client_network(request: HttpRequest | None) -> str | None:
    """The client's address as throttles count it: an IPv6 client by its /64, IPv4 as is.

    An IPv6 host picks any of the 2^64 addresses of its network at will, so counting per
    address would let it start afresh with every attempt. The /64 is given as its first
    address (``2001:db8:1:2::``), a plain address that any IP address column stores.
    """
    address = client_address(request)
    if address is None:
        return None
    parsed = ipaddress.ip_address(address)
    if parsed.version == 4:
        return address
    if parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False)[0])
