"""Redis as platform_sim runs it: its default user only, behind a generated password."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from platform_sim.kinds.base import ContainerSpec, ExternalURL, Kind

PORT = 6379
READY_TIMEOUT = 3
# Redis 6 and later name the one account ``requirepass`` guards ``default``: a URL with this
# login authenticates as that account (the server has no other, and none without a password).
LOGIN = "default"


def server(data: Path, user: str, address: str = ""):  # noqa: ANN201, ARG001 - a Service
    """The server backing_services chooses, its append-only file in ``data`` (each write synced
    before it is acknowledged); ``user`` is not asked: Redis has its default user only."""
    from backing_services import redis_server

    service = redis_server(data_dir=data, **({"host": address} if address else {}))
    service.user = LOGIN
    return service


def check(status: Mapping) -> None:
    """PING, logged in as the status says."""
    from backing_services.redis import check_ready

    check_ready(
        status["host"], int(status["port"]), status["login"], status["password"], READY_TIMEOUT
    )


HEALTHCHECK = "/usr/local/bin/healthcheck"  # backing_services' image: PING with the password

# It accepts connections only once it has loaded its data: a TCP connection is its raw check.
KIND = Kind(
    name="redis",
    port=PORT,
    port_name="redis",
    server=server,
    check=check,
    server_command="redis-server",
    container=ContainerSpec(
        data_path="/var/lib/redis",
        login_variable=None,
        password_variable="REDIS_PASSWORD",  # noqa: S106 - a variable name
        compose_check=("CMD", HEALTHCHECK),
        kube_check=(HEALTHCHECK,),
    ),
    external=ExternalURL(("redis",), ("", "/", "/0"), "database number other than 0"),
    login=LOGIN,
)
