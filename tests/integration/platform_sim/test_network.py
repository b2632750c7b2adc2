"""The app's network of hosts on real namespaces: a host created on an address another host had
is reached at once by hosts that talked to the old one (their neighbour caches stay right)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from platform_sim.network import Network

LISTEN = "import socket, sys, time; s = socket.socket(); s.bind((sys.argv[1], 8000)); s.listen()\n"
LISTEN += "print('ready', flush=True); time.sleep(60)"
CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], 8000), timeout=4).close()"


@pytest.fixture
def network(sim_home):
    net = Network(sim_home / "network-check")
    (sim_home / "network-check").mkdir()
    yield net
    net.destroy()


def listen_in(netns: str, address: str) -> subprocess.Popen:
    """A TCP listener on ``address``:8000 inside ``netns``, once it listens."""
    command = ["ip", "netns", "exec", netns, sys.executable, "-c", LISTEN, address]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    return server


def connect_from(netns: str, address: str) -> subprocess.CompletedProcess:
    """Open (and close) a connection to ``address``:8000 from inside ``netns``."""
    command = ["ip", "netns", "exec", netns, sys.executable, "-c", CONNECT, address]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def stop(server: subprocess.Popen) -> None:
    server.kill()
    server.wait()


def test_a_host_on_a_freed_address_is_reached_at_once(network):
    router = network.host("router", ["router"])
    old = network.host("d1-www-0", ["www-0"])
    server = listen_in(old.netns, old.address)
    try:
        assert connect_from(router.netns, old.address).returncode == 0  # the router knows it
    finally:
        stop(server)
    network.remove_prefix("d1-")
    new = network.host("d2-www-0", ["www-0"])
    assert new.address == old.address  # the freed address is taken again
    server = listen_in(new.netns, new.address)
    try:
        connected = connect_from(router.netns, new.address)
    finally:
        stop(server)
    assert connected.returncode == 0, connected.stderr  # a new link address: timed out
