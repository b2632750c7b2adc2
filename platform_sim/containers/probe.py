"""Inside a code container: is a data service ready for the deploy hooks, not merely listening?

PostgreSQL listens before it accepts sessions ("the database system is starting up"), so its
probe sends a protocol-3 startup message and wants the server's authentication request back.
RabbitMQ opens its AMQP port only once booted: a TCP connection is its probe.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from platform_sim.errors import NotReadyYet

PROTOCOL_3 = 196608
AUTHENTICATION = b"R"


@dataclass(frozen=True)
class Address:
    """A data service as the environment names it."""

    host: str
    port: int
    tag: str
    login: str = ""


def startup_message(user: str, database: str = "postgres") -> bytes:
    """A PostgreSQL StartupMessage (protocol 3.0) for ``user``."""
    body = struct.pack("!I", PROTOCOL_3)
    for key, value in (("user", user), ("database", database)):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def probe(address: Address, connect: Callable[..., socket.socket] = socket.create_connection):
    """Return when ready; raise OSError (NotReadyYet when it answered not ready) otherwise."""
    with connect((address.host, address.port), timeout=3) as connection:
        if address.tag != "SQL":
            return
        connection.sendall(startup_message(address.login or "postgres"))
        reply = connection.recv(1)
        if reply != AUTHENTICATION:
            raise NotReadyYet(f"PostgreSQL answered {reply!r}, not an authentication request")
