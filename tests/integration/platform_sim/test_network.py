"""The app's network of hosts on real namespaces: a host created on an address another host had
is reached at once by hosts that talked to the old one, and the bridge keeps its link address
while hosts come and go (the hosts' neighbour caches stay right)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from platform_sim.hosts.network import Network, mac_address, subnet_address

LISTEN = "import socket, sys, time; s = socket.socket(); s.bind((sys.argv[1], 8000)); s.listen()\n"
LISTEN += "print('ready', flush=True); time.sleep(60)"
CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], 8000), timeout=4).close()"


@pytest.fixture
def network(sim_home, tmp_path):  # sim_home: fails at once without root, ip and nginx
    net = Network(tmp_path)
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


def test_the_bridge_keeps_its_link_address_while_hosts_come_and_go(network):
    bridge = Path("/sys/class/net") / network.bridge
    network.host("router", ["router"])
    fixed = mac_address(subnet_address(network.subnet(), 1))
    assert (bridge / "address").read_text().strip() == fixed
    for generation in range(1, 6):  # each deploy's links have new random addresses
        network.host(f"d{generation}-www-0", ["www-0"])
        network.host(f"d{generation}-www-1", ["www-1"])
        network.remove_prefix(f"d{generation - 1}-")
        assert (bridge / "address").read_text().strip() == fixed
    assert (bridge / "addr_assign_type").read_text().strip() == "3"  # set, never recomputed
