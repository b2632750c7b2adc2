"""The files and environment of a RabbitMQ node living in a directory we own."""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from machine.files import write_text

from .ports import LOOPBACK

NODE_HOST = "localhost"
_PLAIN = re.compile(r"[A-Za-z0-9._~@+-]+")
# Variables of the caller that would make the node read or join something other than its own.
_INHERITED_PREFIXES = ("RABBITMQ_", "ERL_EPMD_", "ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS")


def distribution_args(address: str) -> str:
    """Erlang's flag that binds the distribution port to ``address`` only: RABBITMQ_NODE_IP_
    ADDRESS binds the AMQP port alone, and the node's distribution port (and that of
    rabbitmqctl's own node) would listen on every interface without it."""
    return "-kernel inet_dist_use_interface {" + address.replace(".", ",") + "}"


@dataclass(frozen=True)
class ClusterJoin:
    """What makes a node one of a cluster: its own name, the cluster's shared Erlang cookie,
    the peer-discovery lines of ``rabbitmq.conf``, and the epmd port every node listens on
    (each node on its own host, so one port number serves them all)."""

    node: str
    cookie: str
    peer_config: str
    epmd_port: int
    seed: bool = False  # the node the others join: ready alone
    login: tuple[str, str] | None = None  # the cluster's user and password (the seed's)


def node_name(prefix: str, port: int) -> str:
    """The Erlang node name ``<prefix>-<port>@localhost``."""
    return f"{prefix}-{port}@{NODE_HOST}"


@dataclass(frozen=True)
class NodeLayout:
    """Where a node keeps its files, all inside ``root``."""

    root: Path

    home = property(lambda self: self.root / "home")
    mnesia = property(lambda self: self.root / "mnesia")
    logs = property(lambda self: self.root / "log")
    pid_file = property(lambda self: self.root / "rabbitmq.pid")
    plugins_file = property(lambda self: self.root / "enabled_plugins")
    config_file = property(lambda self: self.root / "rabbitmq.conf")
    advanced_config_file = property(lambda self: self.root / "advanced.config")
    env_file = property(lambda self: self.root / "rabbitmq-env.conf")
    feature_flags_file = property(lambda self: self.root / "feature_flags")
    server_log = property(lambda self: self.root / "rabbitmq-server.log")
    epmd_log = property(lambda self: self.root / "epmd.log")

    def node_log(self, node: str) -> Path:
        """The node's own log file."""
        return self.logs / f"{node}.log"


# How often the management plugin refreshes its queue counts (RabbitMQ's default: 5000 ms).
MANAGEMENT_STATS_MS = 500


def render_config(
    user: str,
    password: str,
    management_port: int | None = None,
    host: str = LOOPBACK,
    extra: str = "",
    vhost: str = "/",
) -> str:
    """The text of ``rabbitmq.conf``: the generated default user and the virtual host its first
    boot creates for it, and the management API on ``host:management_port`` when a port is
    given (nothing else listening)."""
    for label, value in (("user", user), ("password", password), ("virtual host", vhost)):
        if not (_PLAIN.fullmatch(value) or (label == "virtual host" and value == "/")):
            shown = "" if label == "password" else f", got {value!r}"  # never echo a secret
            raise ValueError(f"RabbitMQ {label} must match {_PLAIN.pattern}{shown}")
    text = (
        "# Written by backing_services at every start.\n"
        f"default_user = {user}\n"
        f"default_pass = {password}\n"
        "default_user_tags.administrator = true\n"
        f"default_vhost = {vhost}\n"
        "log.console = false\n"
        "log.file.level = info\n"
    )
    if management_port is not None:
        text += (
            f"management.tcp.port = {management_port}\n"
            f"management.tcp.ip = {host}\n"
            f"collect_statistics_interval = {MANAGEMENT_STATS_MS}\n"
        )
    return text + extra


def node_env(
    layout: NodeLayout,
    node: str,
    port: int,
    dist_port: int,
    epmd_port: int,
    base: dict[str, str] | None = None,
    host: str = LOOPBACK,
    distribution: str = LOOPBACK,
) -> dict[str, str]:
    """The environment for rabbitmq-server and rabbitmqctl: the caller's, pointed at ``layout``;
    the distribution port on ``distribution`` (loopback unless other nodes must reach it)."""
    base = dict(os.environ if base is None else base)
    env = {key: value for key, value in base.items() if not key.startswith(_INHERITED_PREFIXES)}
    env.update(
        HOME=str(layout.home),
        ERL_EPMD_PORT=str(epmd_port),
        RABBITMQ_NODENAME=node,
        RABBITMQ_NODE_IP_ADDRESS=host,
        RABBITMQ_NODE_PORT=str(port),
        RABBITMQ_DIST_PORT=str(dist_port),
        RABBITMQ_MNESIA_BASE=str(layout.mnesia),
        RABBITMQ_LOG_BASE=str(layout.logs),
        RABBITMQ_PID_FILE=str(layout.pid_file),
        RABBITMQ_ENABLED_PLUGINS_FILE=str(layout.plugins_file),
        RABBITMQ_CONFIG_FILE=str(layout.config_file),
        RABBITMQ_ADVANCED_CONFIG_FILE=str(layout.advanced_config_file),
        RABBITMQ_CONF_ENV_FILE=str(layout.env_file),
        RABBITMQ_FEATURE_FLAGS_FILE=str(layout.feature_flags_file),
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=distribution_args(distribution),
        # the other nodes of a cluster answer rabbitmqctl's own node directly: it listens
        # where they reach it
        RABBITMQ_CTL_ERL_ARGS=distribution_args(distribution),
    )
    return env


def write_files(
    layout: NodeLayout,
    user: str,
    password: str,
    management_port: int | None = None,
    host: str = LOOPBACK,
    cluster: ClusterJoin | None = None,
    vhost: str = "/",
) -> None:
    """Create the node's directories and its plugin, config and env files (``vhost``: the
    virtual host a first boot creates for the user); the management
    plugin is enabled only when ``management_port`` is given; a cluster's node gets the
    cluster's cookie (owner-only, as Erlang requires) and its peer list."""
    for directory in (layout.home, layout.mnesia, layout.logs):
        directory.mkdir(parents=True, exist_ok=True)
    plugins = "rabbitmq_management" if management_port is not None else ""
    layout.plugins_file.write_text(f"[{plugins}].\n")
    layout.env_file.write_text("# Empty on purpose: the settings come from the environment.\n")
    extra = cluster.peer_config if cluster is not None else ""
    config = render_config(user, password, management_port, host, extra, vhost)
    write_text(layout.config_file, config)
    if cluster is not None:
        write_text(layout.home / ".erlang.cookie", cluster.cookie, mode=0o400)
