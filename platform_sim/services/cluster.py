"""A ``rabbitmq`` data service of 1 or 3 nodes: its nodes' folders and hosts, its cookie, and
moving between sizes without losing the queued jobs."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from machine.files import write_text
from platform_sim.errors import DataServiceError
from platform_sim.kinds import rabbitmq_cluster
from platform_sim.services.provision import DataService, DataServices

COOKIE_FILE = "erlang.cookie"
CTL_TIMEOUT = 120
KIND = "rabbitmq"


def is_cluster_kind(kind: str) -> bool:
    """Whether a data service of this type runs as a cluster of nodes (1 or 3)."""
    return kind == KIND


def cookie(folder: Path) -> Path:
    """The application's cookie for the service in ``folder``: made once, owner-only."""
    path = folder / COOKIE_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_text(path, rabbitmq_cluster.new_cookie())
    return path


def nodes(name: str, kind: str, folder: Path, size: int) -> list[DataService]:
    """The data services of a cluster's ``size`` nodes, node 0 in the service's ``folder``."""
    secret = cookie(folder)
    return [
        DataService(
            name,
            kind,
            folder if index == 0 else folder / f"node-{index}",
            node=index,
            size=size,
            cookie=secret,
        )
        for index in range(size)
    ]


def extra_nodes(name: str, kind: str, folder: Path, size: int) -> list[DataService]:
    """The nodes beyond ``size`` whose folders exist (left by a larger cluster), last first."""
    return [node for node in reversed(present(name, kind, folder)) if node.node >= size]


def ctl(data: DataServices, node: DataService, *args: str, program: str = "rabbitmqctl") -> str:
    """Run a RabbitMQ command line tool against ``node``, from inside its host."""
    from backing_services.binaries import rabbitmq_bin_dir
    from backing_services.rabbitmq_node import distribution_args

    if data.network is None:
        raise DataServiceError(f"[{node.name}] a RabbitMQ cluster needs platform_sim's network")
    host = data.network.host(node.host_key, node.host_names)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
        "HOME": str(node.data / "home"),  # its .erlang.cookie, the cluster's
        "ERL_EPMD_PORT": str(rabbitmq_cluster.EPMD_PORT),
        # The other nodes answer the tool's own Erlang node directly: it listens on the host's
        # address, and takes its host name from RABBITMQ_NODENAME (else "localhost").
        "RABBITMQ_CTL_ERL_ARGS": distribution_args(host.address),
        "RABBITMQ_NODENAME": rabbitmq_cluster.node_name(node.name, node.node),
    }
    tool = [str(rabbitmq_bin_dir() / program), "-n", env["RABBITMQ_NODENAME"], "-q", *args]
    command = [data.network.ip, "netns", "exec", host.netns, *tool]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=CTL_TIMEOUT, check=False
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise DataServiceError(f"[{node.label}] {program} {' '.join(args)} failed: {output}")
    return output


def members(data: DataServices, node: DataService) -> list[str]:
    """The cluster's members as ``node`` sees them (its disk nodes)."""
    return json.loads(ctl(data, node, "cluster_status", "--formatter", "json"))["disk_nodes"]


def shrink(
    data: DataServices,
    seed: DataService,
    leaving: list[DataService],
    say: Callable[[str], None] = lambda _: None,
) -> None:
    """Take ``leaving`` nodes out one by one, while the others keep a majority: each leaves every
    quorum queue's membership (the others hold their replicas), then the cluster itself (its
    app stopped, reset: the others drop it at once, so a node left alone does not take itself
    for a minority and pause), and is stopped; its folder goes. A node already dead is
    forgotten by the seed instead."""
    import shutil

    for node in leaving:
        gone = rabbitmq_cluster.node_name(node.name, node.node)
        if data.handle(node) is not None:
            say(f"{node.label}: leaving every quorum queue, then the cluster")
            ctl(data, seed, "shrink", gone, program="rabbitmq-queues")
            ctl(data, node, "stop_app")
            ctl(data, node, "reset")
        data.stop(node)
        if gone in members(data, seed):
            say(f"{node.label}: forgotten by the cluster")
            ctl(data, seed, "forget_cluster_node", gone)
        if data.network is not None:
            data.network.remove([node.host_key])
        shutil.rmtree(node.folder, ignore_errors=True)


def present(name: str, kind: str, folder: Path) -> list[DataService]:
    """A data service's nodes as they are now: node 0 and every ``node-<n>`` folder of a
    cluster; the one data service of any other kind."""
    if not is_cluster_kind(kind):
        return [DataService(name, kind, folder)]
    numbers = sorted(
        int(path.name.split("-", 1)[1])
        for path in folder.glob("node-*")
        if path.name.split("-", 1)[1].isdigit()
    )
    size = len(numbers) + 1
    secret = folder / COOKIE_FILE
    first = DataService(name, kind, folder, node=0, size=size, cookie=secret)
    return [first] + [
        DataService(name, kind, folder / f"node-{n}", node=n, size=size, cookie=secret)
        for n in numbers
    ]
