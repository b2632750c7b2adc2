"""RabbitMQ: what every provider offers (virtual hosts on demand) and a node from local binaries."""

import base64
import contextlib
import json
import socket
import subprocess
import urllib.request
from pathlib import Path

import amqp

from . import process
from .base import Service
from .binaries import epmd_path, rabbitmq_bin_dir
from .errors import ServiceError
from .ports import LOOPBACK, ensure_port_free, free_ports, port_is_free
from .rabbitmq_node import ClusterJoin, NodeLayout, node_env, node_name, write_files
from .state import load_state, new_password, save_state
from .urls import amqp_url
from .workdir import WorkDir

CTL_TIMEOUT = 60.0


def epmd_names(port: int) -> bytes:
    """Ask the epmd on ``port`` for its registered names (raises until it answers)."""
    with socket.create_connection((LOOPBACK, port), timeout=1) as sock:
        sock.sendall(b"\x00\x01n")  # NAMES_REQ: a 2-byte length, then "n"
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    if len(reply) < 4:
        raise ConnectionError(f"epmd on port {port} gave a short reply: {reply!r}")
    return reply[4:]


def check_ready(
    host: str, port: int, user: str, password: str, vhost: str = "/", timeout: float = 2
) -> None:
    """Open (and close) a real AMQP connection to ``host:port``; raises until it is accepted."""
    conn = amqp.Connection(
        host=f"{host}:{port}",
        userid=user,
        password=password,
        virtual_host=vhost,
        connect_timeout=timeout,
    )
    try:
        conn.connect()
    finally:
        with contextlib.suppress(Exception):
            conn.close()
        conn.collect()


class RabbitMQService(Service):
    """A RabbitMQ server, whoever provides it: URLs, readiness check, virtual hosts on demand.
    ``vhost``: the virtual host its first boot creates for the user (``/`` unless the provider
    is given one), the one its readiness check logs in to."""

    kind = "rabbitmq"
    vhost = "/"

    @property
    def url(self) -> str:
        """The URL of the default virtual host."""
        return self.vhost_url(self.vhost)

    def vhost_url(self, name: str) -> str:
        """The URL of virtual host ``name`` on this server."""
        return amqp_url(self.user, self.password, self.host, self.port, name)

    def check_ready(self) -> None:
        """Open (and close) a real AMQP connection; raises until the broker accepts it."""
        check_ready(self.host, self.port, self.user, self.password, self.vhost)

    def add_vhost(self, name: str) -> str:
        """Create virtual host ``name`` (if missing), let our user use it; return its URL."""
        if not name:
            raise ValueError("a virtual host needs a name")
        if not self._vhost_usable(name):  # a restarted server has it already: no tool to run
            self._create_vhost(name)
        return self.vhost_url(name)

    def delete_vhost(self, name: str) -> None:
        """Delete virtual host ``name`` and everything in it, if it exists."""
        self._delete_vhost(name)

    def _vhost_usable(self, name: str) -> bool:
        """Whether virtual host ``name`` is known to exist for our user (never, unless a
        provider can tell more cheaply than it creates one)."""
        return False

    def _create_vhost(self, name: str) -> None:
        raise NotImplementedError

    def _delete_vhost(self, name: str) -> None:
        raise NotImplementedError


class LocalRabbitMQ(RabbitMQService):
    """A RabbitMQ node run from the local binaries, with its own epmd, in a directory we own.

    ``data_dir`` None: a temporary directory, removed by stop(). Given: kept, and reused with
    the same node name and credentials (stored in its ``service.json``) when started again.
    The node registers with an epmd of its own on a free port (ERL_EPMD_PORT), so its name
    never clashes with other nodes on this machine and nothing of ours outlives stop().
    With ``cluster``, the node is one of a cluster on hosts of their own (``host`` its own
    address, its name resolvable there): the cluster's name, cookie, peers and epmd port, its
    distribution on ``host``, and ready only as a running member of the cluster. With
    ``vhost``, its first boot creates that virtual host for the user instead of ``/``, so
    ``add_vhost(vhost)`` has nothing to run.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        port: int | None = None,
        user: str = "root",
        name: str = "minestrone",
        start_timeout: float = 90.0,
        bin_dir: Path | None = None,
        epmd: Path | None = None,
        host: str = LOOPBACK,
        management: bool = False,
        cluster: ClusterJoin | None = None,
        vhost: str = "/",
    ) -> None:
        super().__init__()
        self.host = host
        self.cluster = cluster
        self.vhost = vhost
        self.management = management
        self.management_port: int | None = None
        self.workdir = WorkDir(data_dir, prefix="minestrone-rabbitmq-")
        self.requested_port = port
        self.user = user
        self.name = name
        self.start_timeout = start_timeout
        self.bin_dir = bin_dir
        self.epmd = epmd
        self.node = ""
        self.dist_port = 0
        self.epmd_port = 0
        self.env: dict[str, str] = {}
        self.pid: int | None = None
        self.beam_pid: int | None = None
        self._server: subprocess.Popen | None = None
        self._epmd: subprocess.Popen | None = None

    @property
    def management_url(self) -> str | None:
        """The base URL of the management HTTP API (None unless started with management)."""
        if self.management_port is None:
            return None
        return f"http://{self.host}:{self.management_port}"

    def check_management_ready(self) -> None:
        """GET /api/overview with our login; raises until the management API answers 200."""
        request = urllib.request.Request(f"{self.management_url}/api/overview")  # noqa: S310
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        request.add_header("Authorization", f"Basic {token}")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=2) as response:
            response.read()

    @property
    def directory(self) -> Path | None:
        """The node's directory (None before start and after a temporary one is removed)."""
        return self.workdir.path

    def _read_log(self, lines: int) -> str:
        if self.directory is None:
            return ""
        layout = NodeLayout(self.directory)
        paths = [layout.epmd_log, layout.server_log]
        if self.node:
            paths.insert(1, layout.node_log(self.node))
        parts = []
        for path in paths:
            text = process.log_tail(path, lines)
            if text:
                parts.append(f"==> {path.name} <==\n{text}")
        return "\n".join(parts)

    def _start(self) -> None:
        self.bin_dir = self.bin_dir or rabbitmq_bin_dir()
        self.epmd = self.epmd or epmd_path()
        layout = NodeLayout(self.workdir.open())
        state = load_state(layout.root) or {}
        self.port = self._choose_port(state.get("port"))
        spare = [p for p in free_ports(4) if p != self.port]
        self.dist_port, self.epmd_port = spare[:2]
        self.management_port = spare[2] if self.management else None
        self.user = state.get("user", self.user)
        self.password = state.get("password") or new_password()
        cluster = self.cluster
        if cluster is not None and state.get("node") not in (None, cluster.node):
            # data made by a node of another name (before it was a cluster's): renaming a node
            # loses its data, so it keeps its name and runs alone, as before
            cluster = self.cluster = None
        if cluster is not None and cluster.login is not None:  # users are the cluster's
            self.user, self.password = cluster.login
        self.node = state.get("node") or (
            cluster.node if cluster else node_name(self.name, self.port)
        )
        if cluster is not None:
            self.epmd_port = cluster.epmd_port
        save_state(
            layout.root,
            {"user": self.user, "password": self.password, "node": self.node, "port": self.port},
        )
        write_files(
            layout, self.user, self.password, self.management_port, self.host, cluster, self.vhost
        )
        self.env = node_env(
            layout, self.node, self.port, self.dist_port, self.epmd_port, host=self.host,
            distribution=self.host if cluster is not None else LOOPBACK,
        )
        self._start_epmd(layout)
        self._server = process.spawn(
            [str(self.bin_dir / "rabbitmq-server")],
            log_path=layout.server_log,
            env=self.env,
            cwd=layout.root,
        )
        self.pid = self._server.pid
        process.wait_until_ready(
            self.check_ready,
            alive=lambda: self._server.poll() is None,
            timeout=self.start_timeout,
            what="RabbitMQ",
            tail=self.log_tail,
        )
        if cluster is not None:
            process.wait_until_ready(
                self.check_member,
                alive=lambda: self._server.poll() is None,
                timeout=self.start_timeout,
                what="RabbitMQ joining its cluster",
                tail=self.log_tail,
                interval=1.0,
            )
            if not cluster.seed:  # every quorum queue gets a replica here (none where it has one)
                self.ctl("grow", self.node, "all", program="rabbitmq-queues")
        with contextlib.suppress(FileNotFoundError, ValueError):
            self.beam_pid = int(layout.pid_file.read_text().strip())
        if self.management:
            process.wait_until_ready(
                self.check_management_ready,
                alive=lambda: self._server.poll() is None,
                timeout=self.start_timeout,
                what="RabbitMQ's management API",
                tail=self.log_tail,
            )

    def alive(self) -> bool:
        """Whether the node started by start() still runs (its script and its beam)."""
        if not self.running or self._server is None or self._server.poll() is not None:
            return False
        return self.beam_pid is None or process.pid_alive(self.beam_pid)

    def _choose_port(self, stored: int | None) -> int:
        if self.requested_port is not None:
            ensure_port_free(self.requested_port, "RabbitMQ", self.host)
            return self.requested_port
        if stored is not None and port_is_free(stored, self.host):
            return stored
        return free_ports(1, self.host)[0]

    def cluster_status(self) -> dict:
        """``rabbitmqctl cluster_status`` as JSON: ``running_nodes``, ``disk_nodes``…"""
        return json.loads(self.ctl("cluster_status", "--formatter", "json"))

    def check_member(self) -> None:
        """Raise unless this node runs and is clustered (alone only as the cluster's seed).

        Called once the node accepts AMQP logins (it has booted): one tool run per poll."""
        status = self.cluster_status()
        running, disk = status.get("running_nodes", []), status.get("disk_nodes", [])
        if self.node not in running:
            raise ServiceError(f"{self.node} is not among the running nodes {running}")
        if self.cluster is not None and not self.cluster.seed and len(disk) < 2:
            raise ServiceError(f"{self.node} has not joined its cluster yet (members: {disk})")

    def _start_epmd(self, layout: NodeLayout) -> None:
        """Our own epmd on its own port: node names never clash with other nodes, and it goes.
        A cluster's node: on its own host's address too, where the other nodes ask it."""
        addresses = LOOPBACK if self.cluster is None else f"{LOOPBACK},{self.host}"
        command = [str(self.epmd), "-port", str(self.epmd_port), "-address", addresses]
        self._epmd = process.spawn(command, log_path=layout.epmd_log, cwd=layout.root)
        process.wait_until_ready(
            lambda: epmd_names(self.epmd_port),
            alive=lambda: self._epmd.poll() is None,
            timeout=10,
            what="epmd",
            tail=lambda: process.log_tail(layout.epmd_log),
            interval=0.02,
        )

    def _stop(self) -> None:
        if self._server is not None:
            # The script traps SIGTERM and stops the node cleanly; then its group (the script,
            # beam, erl_child_setup, inet_gethost) is killed in case anything is left.
            process.stop_child(self._server, timeout=30)
            self._server = None
        if self._epmd is not None:
            process.stop_child(self._epmd, timeout=5)
            self._epmd = None

    def _cleanup(self) -> None:
        self.workdir.close()

    def ctl(self, *args: str, ok_if: tuple[str, ...] = (), program: str = "rabbitmqctl") -> str:
        """Run ``rabbitmqctl -n <node> <args>`` (or another of RabbitMQ's tools, ``program``)
        against this node (about a second each)."""
        if self._server is None:
            raise ServiceError(f"{self!r} is not running")
        command = [str(self.bin_dir / program), "-n", self.node, "-q", *args]
        try:
            result = subprocess.run(
                command,
                env=self.env,
                cwd=self.directory,
                capture_output=True,
                text=True,
                timeout=CTL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(f"{program} {' '.join(args)} took over {CTL_TIMEOUT:g} s") from exc
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0 and not any(marker in output for marker in ok_if):
            raise ServiceError(
                f"{program} {' '.join(args)} failed ({result.returncode}): {output}"
            )
        return output

    def _vhost_usable(self, name: str) -> bool:
        """One AMQP login to ``name``: far cheaper than rabbitmqctl's own Erlang VM."""
        if self._server is None:
            return False
        try:
            check_ready(self.host, self.port, self.user, self.password, name)
        except Exception:  # noqa: BLE001 - missing, refused or not ready: rabbitmqctl decides
            return False
        return True

    def _create_vhost(self, name: str) -> None:
        self.ctl("add_vhost", name, ok_if=("already exists", "vhost_already_exists"))
        self.ctl("set_permissions", "-p", name, self.user, ".*", ".*", ".*")

    def _delete_vhost(self, name: str) -> None:
        self.ctl("delete_vhost", name, ok_if=("does not exist", "no_such_vhost"))
