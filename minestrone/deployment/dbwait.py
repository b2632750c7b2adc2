"""A deadline on every wait for PostgreSQL: a frozen server (SIGSTOP, a hung host) fails the
query or the connection in seconds, with a log line, instead of hanging the process forever.

The server's own ``statement_timeout`` cannot help when the server is frozen, and the kernel
keeps acknowledging packets for a stopped process, so TCP timeouts never fire either. psycopg2's
wait callback ("green" mode) makes every blocking libpq call a loop this module controls: when
the server sends nothing for ``ANSWER_SECONDS`` (``CONNECT_SECONDS`` while connecting), the
wait raises OperationalError and psycopg2 closes that connection.
"""

from __future__ import annotations

import logging
import select

import psycopg2
from psycopg2 import extensions

CONNECT_SECONDS = 5.0
ANSWER_SECONDS = 12.0  # longer than the server's statement_timeout (settings): that one first

logger = logging.getLogger("minestrone.database")


def wait(conn, connect_seconds: float = CONNECT_SECONDS, answer_seconds: float = ANSWER_SECONDS):  # noqa: ANN001, ANN201 - psycopg2's callback signature
    """Poll ``conn`` until libpq is done; OperationalError after a silence of the deadline."""
    connecting = conn.status == extensions.STATUS_SETUP
    seconds = connect_seconds if connecting else answer_seconds
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        if state == extensions.POLL_READ:
            ready = _ready(conn.fileno(), select.POLLIN, seconds)
        elif state == extensions.POLL_WRITE:
            ready = _ready(conn.fileno(), select.POLLOUT, seconds)
        else:
            raise psycopg2.OperationalError(f"unexpected poll state {state!r}")
        if not ready:
            what = "connecting to" if connecting else "waiting for an answer from"
            message = (
                f"PostgreSQL did not answer for {seconds:g} s while {what} it "
                "(frozen or unreachable): gave up, closed this connection"
            )
            logger.error(message)
            raise psycopg2.OperationalError(message)


def _ready(fd: int, events: int, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``events`` on ``fd`` (poll(2): any descriptor number, unlike
    select(2), which stops at 1023); True when ready (or in error: libpq then says why)."""
    poller = select.poll()
    poller.register(fd, events)
    return bool(poller.poll(max(0, int(seconds * 1000))))


def install() -> None:
    """Make every psycopg2 connection of this process wait through ``wait``."""
    extensions.set_wait_callback(wait)


def uninstall() -> None:
    """Plain blocking waits again (migrations may wait for each other's lock for long)."""
    extensions.set_wait_callback(None)
