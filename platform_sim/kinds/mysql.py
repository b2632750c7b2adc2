"""MySQL as platform_sim runs it (MariaDB): the server gives the app its account, owning one
database, at each start; its administrator logs in through the server's socket only."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from platform_sim.kinds.base import APP_DATABASE, APP_LOGIN, ContainerSpec, ExternalURL, Kind

PORT = 3306
READY_TIMEOUT = 3
HEALTHCHECK = "/usr/local/bin/healthcheck"  # backing_services' image: SELECT 1 as the app


def server(data: Path, user: str, address: str = ""):  # noqa: ANN201, ARG001 - a Service
    """The server backing_services chooses, its data in ``data`` (each commit flushed): the
    app's account (not ``user``: the platform never logs in over the network) owns its
    database, and nothing else."""
    from backing_services import mariadb_server

    where = {"host": address} if address else {}
    return mariadb_server(
        data_dir=data, user=APP_LOGIN, database=APP_DATABASE, fsync=True,
        test_databases=False, **where,
    )


def check(status: Mapping) -> None:
    """Log in as the account the status names and run ``SELECT 1`` in its database."""
    from backing_services.mariadb import check_ready

    check_ready(
        status["host"], int(status["port"]), status["login"], status["password"],
        APP_DATABASE, READY_TIMEOUT,
    )


# It listens only once it accepts sessions: a TCP connection is its raw-socket check.
KIND = Kind(
    name="mysql",
    port=PORT,
    port_name="mysql",
    server=server,
    check=check,
    server_command="mariadbd",
    container=ContainerSpec(
        data_path="/var/lib/mysql",
        login_variable="MARIADB_USER",
        password_variable="MARIADB_PASSWORD",  # noqa: S106 - a variable name
        compose_check=("CMD", HEALTHCHECK),
        kube_check=(HEALTHCHECK,),
        compose_settings=(("MARIADB_DATABASE", APP_DATABASE),),
        kube_settings=(("MARIADB_DATABASE", APP_DATABASE),),
    ),
    external=ExternalURL(("mysql",), ("", "/"), "database name"),
    login=APP_LOGIN,
    database=APP_DATABASE,
    recipe="mariadb",
)
