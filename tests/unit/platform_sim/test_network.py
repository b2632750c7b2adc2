"""The app's network of hosts: addresses in 198.18.0.0/15, the guard route first, names, and
removal of everything it made (``ip`` is a fake recording its commands)."""

from __future__ import annotations

import ipaddress
import threading
import time
from pathlib import Path

from platform_sim.hosts import namespace
from platform_sim.hosts.network import (
    RANGE,
    SUBNETS,
    Network,
    mac_address,
    subnet_address,
    used_subnets,
)


class FakeIp:
    """Records ``ip`` commands; ``addr show`` lists what the test says is in use."""

    def __init__(self, addresses: str = "") -> None:
        self.commands: list[list[str]] = []
        self.addresses = addresses

    def __call__(self, args, *, ip="ip", check=True) -> str:
        self.commands.append(list(args))
        return self.addresses if args[:3] == ["-4", "-o", "addr"] else ""


def network(tmp_path, fake):
    return Network(
        tmp_path / "app", run=fake, etc=tmp_path / "etc", machine_lock=tmp_path / "net.lock"
    )


def test_addresses_are_in_the_reserved_range():
    assert subnet_address(0, 2) == "198.18.0.2"
    assert subnet_address(511, 254) == "198.19.255.254"
    assert used_subnets("2: eth0 inet 192.0.2.2/24\n5: psb inet 198.19.3.1/24 brd") == {259}


def test_a_host_s_link_address_is_fixed_by_its_ip_address():
    assert mac_address("198.18.0.2") == "02:00:c6:12:00:02"
    assert mac_address("198.19.255.254") == "02:00:c6:13:ff:fe"


def test_the_guard_route_comes_first_then_the_bridge_then_each_host(tmp_path):
    fake = FakeIp()
    (tmp_path / "app").mkdir()
    net = network(tmp_path, fake)
    db = net.host("services-db", ["db"])
    www = net.host("d1-www-0", ["www-0", "app-www-0-d1"])
    assert fake.commands[0] == ["route", "replace", "unreachable", "198.18.0.0/15"]
    bridge_mac = mac_address(subnet_address(net.subnet(), 1))
    assert ["link", "add", net.bridge, "address", bridge_mac, "type", "bridge"] in fake.commands
    assert db.address != www.address
    assert all(ipaddress.ip_address(h.address) in RANGE for h in (db, www))
    assert [
        "link",
        "add",
        f"pv{net.tag}002",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "address",
        mac_address(db.address),
        "netns",
        db.netns,
    ] in fake.commands
    assert ["-n", db.netns, "addr", "add", f"{db.address}/24", "dev", "eth0"] in fake.commands
    hosts = (tmp_path / "etc" / www.netns / "hosts").read_text()
    assert f"{db.address} db\n" in hosts
    assert f"{www.address} www-0 app-www-0-d1\n" in hosts
    assert net.host("services-db", ["db"]) == db  # the same host again: nothing new


def test_a_subnet_in_use_on_this_machine_is_skipped(tmp_path):
    (tmp_path / "app").mkdir()
    probe = network(tmp_path, FakeIp())
    wanted = int(probe.tag, 16) % 512
    taken = f"9: x inet {subnet_address(wanted, 1)}/24"
    host = network(tmp_path, FakeIp(taken)).host("services-db", ["db"])
    assert host.address == subnet_address((wanted + 1) % 512, 2)


def test_removing_hosts_and_destroying_leave_nothing(tmp_path):
    fake = FakeIp()
    (tmp_path / "app").mkdir()
    net = network(tmp_path, fake)
    old = net.host("d1-www-0", ["www-0"])
    new = net.host("d2-www-0", ["www-0"])
    net.remove_prefix("d1-")
    # the link goes at once, before its namespace (whose teardown the kernel defers)
    gone = fake.commands.index(["netns", "del", old.netns])
    assert fake.commands[gone - 1] == ["link", "del", f"pv{net.tag}002"]
    assert not (tmp_path / "etc" / old.netns).exists()
    assert (tmp_path / "etc" / new.netns / "hosts").exists()
    net.destroy()
    assert ["netns", "del", new.netns] in fake.commands
    assert ["link", "del", net.bridge] in fake.commands
    assert not net.record_file.exists()
    assert not (tmp_path / "etc" / new.netns).exists()


def test_a_namespaced_command_enters_the_host_first():
    argv = namespace.wrap(["true"], netns="ps123456-2", ip="/sbin/ip", unshare="unshare")
    assert argv[:5] == ["/sbin/ip", "netns", "exec", "ps123456-2", "unshare"]
    assert namespace.wrap(["true"])[0] == "unshare"


class SharedMachine:
    """One machine's ``ip`` for several apps: a bridge's address shows in ``addr show`` once
    added, and ``addr show`` answers slowly (the window in which two pushes could race)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.addresses: list[str] = []

    def __call__(self, args, *, ip="ip", check=True) -> str:
        if args[:3] == ["-4", "-o", "addr"]:
            with self.lock:
                shown = " ".join(f"inet {address}" for address in self.addresses)
            time.sleep(0.05)
            return shown
        if args[:2] == ["addr", "add"]:
            with self.lock:
                self.addresses.append(args[2])
        return ""


def apps_starting_on_one_subnet(tmp_path) -> tuple[Path, Path]:
    """Two app folders whose subnet search starts at the same /24."""
    seen: dict[int, Path] = {}
    for number in range(10_000):
        root = tmp_path / f"app{number}"
        start = int(Network(root).tag, 16) % SUBNETS
        if start in seen:
            return seen[start], root
        seen[start] = root
    raise AssertionError("no two app folders share a starting subnet")


def test_apps_pushed_side_by_side_never_take_the_same_subnet(tmp_path):
    machine = SharedMachine()
    roots = apps_starting_on_one_subnet(tmp_path)
    networks = []
    for root in roots:
        root.mkdir()
        networks.append(
            Network(root, run=machine, etc=tmp_path / "etc", machine_lock=tmp_path / "net.lock")
        )
    subnets: list[int] = []
    threads = [threading.Thread(target=lambda n=n: subnets.append(n.subnet())) for n in networks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(subnets) == 2 and subnets[0] != subnets[1], subnets
