"""minestrone's exception family: the root every package's errors derive from, the errors
shared by several packages (and what kombu and Django raise for them), and how an error's text
is kept to one line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# What kombu and the sockets under it raise when the broker cannot be reached; on Redis some
# paths (remote control, queue depth) let the client's own errors through, which are no OSError.
BROKER_FAILURES = (OperationalError, OSError, RedisConnectionError, RedisTimeoutError)
# What Django raises when the database is down, frozen or dropped the connection (a query the
# database refuses is another DatabaseError: not this).
DATABASE_FAILURES = (DatabaseOperationalError, InterfaceError)


class MinestroneError(Exception):
    """Something minestrone refuses or cannot do; the message says what and how to fix it."""


class BrokerUnreachable(MinestroneError):
    """The broker could not be reached (connection refused, timed out, closed): nothing was
    sent to it or read from it."""


class QueueMigrationError(MinestroneError):
    """The broker's queues cannot be made what this version declares (minestrone/queues.py);
    the message says why."""


@contextlib.contextmanager
def reaching_the_broker() -> Iterator[None]:
    """Inside, a broker that cannot be reached (BROKER_FAILURES) raises BrokerUnreachable."""
    try:
        yield
    except BROKER_FAILURES as exc:
        raise BrokerUnreachable(str(exc) or type(exc).__name__) from exc


def one_line(text: str) -> str:
    """``text`` with line breaks and other non-printable characters escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
