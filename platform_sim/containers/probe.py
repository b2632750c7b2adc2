"""Inside a code container: is a data service ready for the deploy hooks, not merely listening?

A TCP connection, then the raw-socket check of the kind its variables' tag names (PostgreSQL
wants its authentication request back); a type no kind runs here is ready once it accepts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from platform_sim.kinds.registry import by_tag


@dataclass(frozen=True)
class Address:
    """A data service as the environment names it."""

    host: str
    port: int
    tag: str
    login: str = ""


def probe(address: Address, connect: Callable[..., socket.socket] = socket.create_connection):
    """Return when ready; raise OSError (``NotReadyYet`` when it answered not ready)."""
    kind = by_tag(address.tag)
    with connect((address.host, address.port), timeout=3) as connection:
        if kind is not None and kind.answer is not None:
            kind.answer(connection, address.login)
