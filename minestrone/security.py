"""Who is asking: the client's address as the platform's front end saw it (for login throttling)."""

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
