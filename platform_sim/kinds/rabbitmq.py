"""RabbitMQ as platform_sim runs it: virtual hosts, an AMQP login as its readiness check."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from platform_sim.kinds.base import ContainerSpec, ExternalURL, Kind

PORT = 5672
READY_TIMEOUT = 3


def server(data: Path, user: str, address: str = "", cluster: object = None, vhost: str = "/"):  # noqa: ANN201
    """The server backing_services chooses, its data in ``data``, its first boot creating
    ``vhost`` for ``user``; ``cluster`` (a ``ClusterJoin``): one node of a cluster, on a host of
    its own at ``address`` (its virtual hosts are the cluster's: made by add_vhost)."""
    from backing_services import LocalRabbitMQ, rabbitmq_server

    if cluster is not None:  # nodes on hosts of their own: the local binaries only
        return LocalRabbitMQ(data_dir=data, user=user, host=address, cluster=cluster)
    where = {"host": address} if address else {}
    return rabbitmq_server(data_dir=data, user=user, vhost=vhost, **where)


def check(status: Mapping) -> None:
    """Open a real AMQP connection as the login the status names, to its virtual host."""
    from backing_services.rabbitmq import check_ready

    check_ready(
        status["host"], int(status["port"]), status["login"], status["password"],
        status.get("vhost") or "/", READY_TIMEOUT,
    )


# Its AMQP port opens only once it has booted: a TCP connection is its raw-socket check.
KIND = Kind(
    name="rabbitmq",
    port=PORT,
    port_name="amqp",
    server=server,
    check=check,
    server_command="beam.smp",
    container=ContainerSpec(
        data_path="/var/lib/rabbitmq",
        login_variable="RABBITMQ_DEFAULT_USER",
        password_variable="RABBITMQ_DEFAULT_PASS",  # noqa: S106 - a variable name
        compose_check=("CMD", "/usr/local/bin/healthcheck"),
        kube_check=("rabbitmq-diagnostics", "-q", "check_port_connectivity"),
    ),
    external=ExternalURL(("amqp",), ("", "/", "/%2F", "/%2f"), "virtual host other than /"),
    vhosts=True,
    logs=("log/*.log",),  # RABBITMQ_LOG_BASE: <node>.log and the upgrade log
)
