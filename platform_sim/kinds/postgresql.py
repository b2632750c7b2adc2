"""PostgreSQL as platform_sim runs it: the app gets a role of its own that owns its database."""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping
from pathlib import Path

from platform_sim.address import LOOPBACK
from platform_sim.errors import NotReadyYet
from platform_sim.kinds.base import AppRole, ContainerSpec, ExternalURL, Kind

PORT = 5432
READY_TIMEOUT = 3
PROTOCOL_3 = 196608
AUTHENTICATION = b"R"
MAINTENANCE_DB = "postgres"


def server(data: Path, user: str, address: str = ""):  # noqa: ANN201 - a backing_services Service
    """The server backing_services chooses, its data in ``data`` (fsync on: an application's
    data survives a crash or a power loss)."""
    from backing_services import postgres_server

    where = {"host": address} if address else {}
    return postgres_server(data_dir=data, user=user, fsync=True, **where)


def check(status: Mapping) -> None:
    """Log in as the superuser the status names and run ``SELECT 1``."""
    from backing_services.postgres import check_ready

    check_ready(
        status["host"], int(status["port"]), status["login"], status["password"],
        MAINTENANCE_DB, READY_TIMEOUT,
    )


def owner(status: Mapping, login: str, password: str, database: str) -> None:
    """As the superuser the status names: ``login`` owning ``database`` (made if missing)."""
    import psycopg2

    from backing_services.postgres import ensure_owner

    connection = psycopg2.connect(
        host=status["host"],
        port=int(status["port"]),
        user=status["login"],
        password=status["password"],
        dbname=MAINTENANCE_DB,
        connect_timeout=10,
    )
    connection.autocommit = True
    try:
        ensure_owner(connection, login, password, database)
    finally:
        connection.close()


def startup_message(user: str, database: str = MAINTENANCE_DB) -> bytes:
    """A PostgreSQL StartupMessage (protocol 3.0) for ``user``."""
    body = struct.pack("!I", PROTOCOL_3)
    for key, value in (("user", user), ("database", database)):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def answer(connection: socket.socket, login: str) -> None:
    """It listens before it accepts sessions ("the database system is starting up"): a
    startup message must get the server's authentication request back."""
    connection.sendall(startup_message(login or MAINTENANCE_DB))
    reply = connection.recv(1)
    if reply != AUTHENTICATION:
        raise NotReadyYet(f"PostgreSQL answered {reply!r}, not an authentication request")


KIND = Kind(
    name="postgresql",
    port=PORT,
    port_name="postgresql",
    server=server,
    check=check,
    server_command="postgres",
    container=ContainerSpec(
        data_path="/var/lib/postgresql/data",
        login_variable="POSTGRES_USER",
        password_variable="POSTGRES_PASSWORD",  # noqa: S106 - a variable name
        compose_check=(
            "CMD-SHELL",
            f'PGPASSWORD="$$(cat "$$POSTGRES_PASSWORD_FILE")" psql -h {LOOPBACK} '
            "-U \"$$POSTGRES_USER\" -d postgres -tAq -c 'SELECT 1'",
        ),
        kube_check=("pg_isready", "-q", "-h", LOOPBACK, "-p", str(PORT)),
        compose_settings=(("POSTGRES_DB", MAINTENANCE_DB),),
        kube_settings=(("PGDATA", "/var/lib/postgresql/data/pgdata"),),
        # what backing_services' postgresql image's entrypoint reads to make the app's role
        app_role=AppRole("POSTGRES_APP_USER", "POSTGRES_APP_PASSWORD", "POSTGRES_APP_DB"),
    ),
    external=ExternalURL(("postgresql", "postgres"), ("", "/"), "database name"),
    answer=answer,
    owner=owner,
)
