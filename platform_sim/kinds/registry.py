"""The data-service kinds platform_sim runs: what starts each, its extras, its readiness.

The names of their variables (``DOTCLOUD_<NAME>_SQL_*``…) are the platform's, for every type
it knew: ``environment.DATA_TAGS``.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

READY_TIMEOUT = 3


def _postgres(data: Path, user: str, address: str = ""):  # noqa: ANN202 - a backing_services Service
    from backing_services import postgres_server

    # an application's data must survive a crash or a power loss: fsync stays on
    where = {"host": address} if address else {}
    return postgres_server(data_dir=data, user=user, fsync=True, **where)


def _rabbitmq(data: Path, user: str, address: str = ""):  # noqa: ANN202 - a backing_services Service
    from backing_services import rabbitmq_server

    return rabbitmq_server(data_dir=data, user=user, **({"host": address} if address else {}))


def _superuser_connection(status: Mapping, timeout: float):  # noqa: ANN202 - psycopg2's
    """A connection to the server the status names, as its superuser, to ``postgres``."""
    import psycopg2

    return psycopg2.connect(
        host=status["host"],
        port=int(status["port"]),
        user=status["login"],
        password=status["password"],
        dbname="postgres",
        connect_timeout=timeout,
    )


def _postgres_ready(status: Mapping) -> None:
    connection = _superuser_connection(status, READY_TIMEOUT)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def _postgres_owner(status: Mapping, login: str, password: str, database: str) -> None:
    """As the superuser the status names: ``login`` owning ``database`` (made if missing)."""
    from backing_services.postgres import ensure_owner

    connection = _superuser_connection(status, 10)
    connection.autocommit = True
    try:
        ensure_owner(connection, login, password, database)
    finally:
        connection.close()


def _rabbitmq_ready(status: Mapping) -> None:
    from amqp import Connection

    connection = Connection(
        host=f"{status['host']}:{status['port']}",
        userid=status["login"],
        password=status["password"],
        virtual_host=status.get("vhost") or "/",
        connect_timeout=READY_TIMEOUT,
    )
    try:
        connection.connect()
    finally:
        with contextlib.suppress(Exception):
            connection.close()
        connection.collect()


@dataclass(frozen=True)
class Kind:
    """A data-service type: its server, whether it has virtual hosts, its readiness check,
    and how the app gets a role of its own (None: it logs in as the platform's login)."""

    name: str
    server: Callable[..., object]
    check: Callable[[Mapping], None]
    vhosts: bool = False
    owner: Callable[[Mapping, str, str, str], None] | None = None

    def ready(self, status: Mapping) -> bool:
        """Whether the server a status file describes answers a real request (a login)."""
        try:
            self.check(status)
        except Exception:  # noqa: BLE001 - refused, reset, timed out, login failed: not ready
            return False
        return True


KINDS = {
    "postgresql": Kind("postgresql", _postgres, _postgres_ready, owner=_postgres_owner),
    "rabbitmq": Kind("rabbitmq", _rabbitmq, _rabbitmq_ready, vhosts=True),
}


def kind(name: str) -> Kind:
    """The kind called ``name`` (KeyError for one platform_sim does not run)."""
    return KINDS[name]


def answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False
