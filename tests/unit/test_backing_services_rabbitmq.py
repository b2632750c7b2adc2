"""RabbitMQ without a broker: node files and environment, start failures, port refusal."""

import socket
import time
from pathlib import Path

import pytest

from backing_services.errors import PortInUse, ServiceError, ServiceStartError
from backing_services.rabbitmq import LocalRabbitMQ
from backing_services.rabbitmq_node import NodeLayout, node_env, node_name, render_config
from tests.pace import quick

ROOT = Path("/srv/rabbit")


def test_node_env_points_everything_into_the_directory():
    inherited = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "RABBITMQ_NODENAME": "rabbit@localhost",
        "RABBITMQ_CONFIG_FILE": "/etc/rabbitmq/rabbitmq.conf",
        "ERL_EPMD_PORT": "4369",
        "ERL_EPMD_ADDRESS": "0.0.0.0",
        "ERL_FLAGS": "-kernel x",
        "HOME": "/root",
    }
    env = node_env(NodeLayout(ROOT), "minestrone-5673@localhost", 5673, 25673, 14369, inherited)
    assert env == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "HOME": "/srv/rabbit/home",
        "ERL_EPMD_PORT": "14369",
        "RABBITMQ_NODENAME": "minestrone-5673@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": "5673",
        "RABBITMQ_DIST_PORT": "25673",
        "RABBITMQ_MNESIA_BASE": "/srv/rabbit/mnesia",
        "RABBITMQ_LOG_BASE": "/srv/rabbit/log",
        "RABBITMQ_PID_FILE": "/srv/rabbit/rabbitmq.pid",
        "RABBITMQ_ENABLED_PLUGINS_FILE": "/srv/rabbit/enabled_plugins",
        "RABBITMQ_CONFIG_FILE": "/srv/rabbit/rabbitmq.conf",
        "RABBITMQ_ADVANCED_CONFIG_FILE": "/srv/rabbit/advanced.config",
        "RABBITMQ_CONF_ENV_FILE": "/srv/rabbit/rabbitmq-env.conf",
        "RABBITMQ_FEATURE_FLAGS_FILE": "/srv/rabbit/feature_flags",
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }


def test_node_name():
    assert node_name("minestrone", 5673) == "minestrone-5673@localhost"


def test_config_sets_the_generated_default_user():
    text = render_config("root", "s3cret-_x")
    assert "default_user = root\n" in text
    assert "default_pass = s3cret-_x\n" in text


@pytest.mark.parametrize("password", ["has space", "hash#tag", "new\nline", ""])
def test_config_refuses_values_it_cannot_write(password):
    with pytest.raises(ValueError, match="password") as refused:
        render_config("root", password)
    assert password not in str(refused.value) or not password


def test_config_creates_the_apps_virtual_host_at_first_boot():
    assert "default_vhost = /\n" in render_config("root", "pw")
    assert "default_vhost = minestrone_broker\n" in render_config(
        "root", "pw", vhost="minestrone_broker"
    )
    with pytest.raises(ValueError, match="virtual host"):
        render_config("root", "pw", vhost="a b")


def fake_install(tmp_path, server_body):
    """A rabbitmq-server running ``server_body`` and an epmd that answers NAMES with nothing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "rabbitmq-server").write_text(f"#!/bin/sh\n{server_body}\n")
    (bin_dir / "rabbitmqctl").write_text("#!/bin/sh\nexit 0\n")
    epmd = bin_dir / "epmd"
    answer_names = (
        "import socket, sys; s = socket.socket(); "
        "s.bind(('127.0.0.1', int(sys.argv[2]))); s.listen()\n"
        "while True:\n c = s.accept()[0]; c.recv(3); c.sendall(bytes(4)); c.close()"
    )
    epmd.write_text(f'#!/bin/sh\nexec python3 -c "{answer_names}" "$@"\n')
    for path in bin_dir.iterdir():
        path.chmod(0o755)
    return bin_dir, epmd


def test_a_node_that_dies_at_once_reports_its_log_quickly(tmp_path):
    body = "echo 'BOOT FAILED: {config_parse_error}'; exit 1"
    bin_dir, epmd = fake_install(tmp_path, body)
    server = LocalRabbitMQ(bin_dir=bin_dir, epmd=epmd, start_timeout=120)
    started = time.monotonic()
    with pytest.raises(ServiceStartError) as caught:
        server.start()
    assert time.monotonic() - started < quick(5, timeout=120)
    assert "RabbitMQ exited while starting" in str(caught.value)
    assert "BOOT FAILED: {config_parse_error}" in str(caught.value)
    assert server._epmd is None and server._server is None
    assert server.directory is None


def test_the_node_sees_its_environment(tmp_path):
    body = 'echo "node=$RABBITMQ_NODENAME home=$HOME epmd=$ERL_EPMD_PORT"; exit 1'
    bin_dir, epmd = fake_install(tmp_path, body)
    server = LocalRabbitMQ(tmp_path / "data", name="unit", bin_dir=bin_dir, epmd=epmd)
    with pytest.raises(ServiceStartError) as caught:
        server.start()
    home = tmp_path / "data" / "home"
    expected = f"node=unit-{server.port}@localhost home={home} epmd={server.epmd_port}"
    assert expected in caught.value.log_tail
    assert (tmp_path / "data" / "enabled_plugins").read_text() == "[].\n"
    assert "default_pass = " + server.password in (tmp_path / "data" / "rabbitmq.conf").read_text()


def test_a_kept_directory_keeps_node_name_and_credentials(tmp_path):
    bin_dir, epmd = fake_install(tmp_path, "exit 1")
    first = LocalRabbitMQ(tmp_path / "data", bin_dir=bin_dir, epmd=epmd)
    with pytest.raises(ServiceStartError):
        first.start()
    second = LocalRabbitMQ(tmp_path / "data", bin_dir=bin_dir, epmd=epmd)
    with pytest.raises(ServiceStartError):
        second.start()
    assert (second.node, second.user, second.password) == (first.node, first.user, first.password)


def test_a_taken_port_is_refused_before_anything_runs(tmp_path):
    bin_dir, epmd = fake_install(tmp_path, "exit 1")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        server = LocalRabbitMQ(tmp_path / "data", port=port, bin_dir=bin_dir, epmd=epmd)
        with pytest.raises(PortInUse, match=f"RabbitMQ: port {port}"):
            server.start()
    assert not (tmp_path / "data" / "epmd.log").exists()


def test_rabbitmqctl_needs_a_running_node():
    with pytest.raises(ServiceError, match="not running"):
        LocalRabbitMQ().add_vhost("jobs")


class Answering(LocalRabbitMQ):
    """A node that "runs": its AMQP logins answer as ``usable`` says; tool runs recorded."""

    def __init__(self, usable: set[str]) -> None:
        super().__init__()
        self._server = object()
        self.user, self.password, self.port = "root", "pw", 5673
        self.usable, self.ran = usable, []

    def ctl(self, *args: str, ok_if=(), program: str = "rabbitmqctl") -> str:
        self.ran.append(args[0])
        return ""


def test_a_virtual_host_the_user_can_open_already_runs_no_tool(monkeypatch):
    def login(host, port, user, password, vhost="/", timeout=2):
        if vhost not in server.usable:
            raise ConnectionRefusedError(vhost)

    monkeypatch.setattr("backing_services.rabbitmq.check_ready", login)
    server = Answering({"kept"})
    assert server.add_vhost("kept") == "amqp://root:pw@127.0.0.1:5673/kept"
    assert server.ran == []  # a restarted server: one AMQP login, no Erlang VM
    server.add_vhost("new")
    assert server.ran == ["add_vhost", "set_permissions"]


def test_vhost_urls_quote_the_name():
    server = LocalRabbitMQ()
    server.user, server.password, server.port = "root", "pw", 5673
    assert server.url == "amqp://root:pw@127.0.0.1:5673/%2F"
    assert server.vhost_url("a/b c") == "amqp://root:pw@127.0.0.1:5673/a%2Fb%20c"


def test_a_node_on_its_own_address_listens_there_and_distributes_on_loopback():
    env = node_env(NodeLayout(ROOT), "n@localhost", 5673, 25673, 14369, {}, host="198.18.0.3")
    assert env["RABBITMQ_NODE_IP_ADDRESS"] == "198.18.0.3"
    assert "{127,0,0,1}" in env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]


def test_the_management_plugin_is_off_unless_asked():
    assert "management" not in render_config("root", "pw")
    text = render_config("root", "pw", management_port=15999)
    assert "management.tcp.port = 15999\nmanagement.tcp.ip = 127.0.0.1\n" in text


def test_a_node_with_management_enables_the_plugin_on_its_own_port(tmp_path):
    bin_dir, epmd = fake_install(tmp_path, "exit 1")
    server = LocalRabbitMQ(tmp_path / "data", bin_dir=bin_dir, epmd=epmd, management=True)
    with pytest.raises(ServiceStartError):
        server.start()
    data = tmp_path / "data"
    assert (data / "enabled_plugins").read_text() == "[rabbitmq_management].\n"
    port = server.management_port
    assert port not in (None, server.port, server.dist_port, server.epmd_port)
    assert f"management.tcp.port = {port}\n" in (data / "rabbitmq.conf").read_text()
    assert server.management_url == f"http://127.0.0.1:{port}"
