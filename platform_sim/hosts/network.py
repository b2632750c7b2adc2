"""The app's network of hosts: a bridge of its own, and a network namespace with its own address
and host name for each instance, data service and the router, in 198.18.0.0/15 (set aside
for tests).

Nothing can leave the machine: a host-side ``unreachable`` route for the whole range is
installed before any bridge, so that an address with no link fails here instead of following
the default route, and the namespaces have no route but their bridge's subnet. Host names
(``db``, ``www-0``…) are in ``/etc/netns/<namespace>/hosts``, which ``ip netns exec`` shows
as /etc/hosts inside. The record (``network.json``) says what exists, so that ``destroy``
removes every namespace, link and file, even after an interrupted push.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from platform_sim.errors import HostError
from platform_sim.files import read_json, write_json

RANGE = ipaddress.ip_network("198.18.0.0/15")
SUBNETS = 512  # /24s in the range
FIRST_HOST, LAST_HOST = 2, 254  # .1 is the bridge's (the platform's own side)
NETNS_ETC = Path("/etc/netns")
# Held while an app picks its subnet and makes its bridge, and while the last app's teardown
# decides whether the guard route goes: apps pushed side by side would otherwise take the
# same /24 (the machine would then route one app's addresses to the other's bridge).
MACHINE_LOCK = Path("/run/platform_sim-network.lock")
BRIDGE_PREFIX = "psb"


def ip_binary() -> str:
    """The ``ip`` program of iproute2 (a HostError names what is missing)."""
    found = shutil.which("ip", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin")
    if found is None:
        raise HostError("ip (iproute2) is not installed: apt-get install iproute2")
    return found


def run_ip(args: Sequence[str], *, ip: str = "ip", check: bool = True) -> str:
    """Run ``ip ARGS``; a failure is a HostError quoting ip's message."""
    result = subprocess.run([ip, *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise HostError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def subnet_address(index: int, host: int) -> str:
    """The address of ``host`` (1–254) in subnet ``index`` (0–511) of the range."""
    return str(RANGE.network_address + index * 256 + host)


def mac_address(address: str) -> str:
    """The link address of the host (or bridge) with this IP address: ``02:00`` + its bytes.

    A host created again on an address another host had (a later deploy's instance) answers
    with the same link address, so the other hosts' neighbour caches stay right: with a new one
    they would send to the old link for up to a minute, and connections would hang meanwhile.
    """
    octets = ipaddress.ip_address(address).packed
    return ":".join(f"{byte:02x}" for byte in (0x02, 0x00, *octets))  # locally administered


def used_subnets(addresses: str) -> set[int]:
    """The subnet indexes of the range that ``ip -4 -o addr`` shows in use on this machine."""
    used = set()
    for word in addresses.split():
        if "/" not in word:
            continue
        try:
            address = ipaddress.ip_interface(word).ip
        except ValueError:
            continue
        if address in RANGE:
            used.add((int(address) - int(RANGE.network_address)) // 256)
    return used


@dataclass(frozen=True)
class Host:
    """One host of the network: its namespace, its address, its names."""

    key: str
    netns: str
    address: str


class Network:
    """The network of one application (its state folder ``root``)."""

    def __init__(
        self,
        root: Path,
        *,
        ip: str = "ip",
        run: Callable[..., str] = run_ip,
        etc: Path = NETNS_ETC,
        machine_lock: Path = MACHINE_LOCK,
    ) -> None:
        self.root = root
        self.etc = etc
        self.machine_lock = machine_lock
        self.ip = ip
        self._run = run
        self._lock = threading.Lock()
        self.tag = hashlib.sha1(str(root).encode()).hexdigest()[:6]  # noqa: S324 - a name
        self.bridge = f"{BRIDGE_PREFIX}{self.tag}"

    record_file = property(lambda self: self.root / "network.json")

    def run(self, *args: str, check: bool = True) -> str:
        """``ip ARGS``."""
        return self._run(list(args), ip=self.ip, check=check)

    def _record(self) -> dict:
        return read_json(self.record_file, {}) or {}

    def recorded(self, key: str) -> dict | None:
        """The record of host ``key`` (number, netns, address, names), None if it has none."""
        return self._record().get("hosts", {}).get(key)

    def subnet(self) -> int:
        """The index of the app's /24 in the range (the bridge made if missing)."""
        with self._lock:
            return self._ensure_bridge(self._record())["subnet"]

    @contextlib.contextmanager
    def _machine_wide(self) -> Iterator[None]:
        """Hold the machine's network lock (every app's platform_sim commands share it)."""
        with open(self.machine_lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _ensure_bridge(self, record: dict) -> dict:
        """The guard route, then the bridge with the platform's address .1 (once)."""
        self.run("route", "replace", "unreachable", str(RANGE))
        if "subnet" in record and Path(f"/sys/class/net/{self.bridge}").exists():
            return record
        with self._machine_wide():
            return self._make_bridge(self._record())

    def _make_bridge(self, record: dict) -> dict:
        if "subnet" not in record:
            used = used_subnets(self.run("-4", "-o", "addr", "show"))
            start = int(self.tag, 16) % SUBNETS
            free = [(start + step) % SUBNETS for step in range(SUBNETS)]
            free = [index for index in free if index not in used]
            if not free:
                raise HostError(f"no free /24 left in {RANGE} on this machine")
            record = {"subnet": free[0], "hosts": {}}
            write_json(self.record_file, record)
        if not Path(f"/sys/class/net/{self.bridge}").exists():
            address = subnet_address(record["subnet"], 1)
            # A fixed link address: left to the kernel, a bridge takes its ports' lowest one,
            # and it changes when that port goes (a deploy's instance): the hosts would send
            # to the old one for seconds, and answers to the platform would be lost meanwhile.
            self.run("link", "add", self.bridge, "address", mac_address(address), "type", "bridge")
            self.run("addr", "add", f"{address}/24", "dev", self.bridge)
            self.run("link", "set", self.bridge, "up")
        return record

    def host(self, key: str, names: Sequence[str]) -> Host:
        """The host called ``key`` (created if missing): namespace, link, address, names."""
        with self._lock:
            record = self._ensure_bridge(self._record())
            entry = record["hosts"].get(key)
            if entry is None:
                taken = {host["number"] for host in record["hosts"].values()}
                free = [n for n in range(FIRST_HOST, LAST_HOST + 1) if n not in taken]
                if not free:
                    raise HostError(f"no address left in the app's subnet for {key}")
                number = free[0]
                entry = {
                    "number": number,
                    "netns": f"ps{self.tag}-{number}",
                    "address": subnet_address(record["subnet"], number),
                    "names": list(names),
                }
                record["hosts"][key] = entry
                write_json(self.record_file, record)
            elif entry["names"] != list(names):  # a data service become a cluster's node 0
                entry["names"] = list(names)
                write_json(self.record_file, record)
            if not Path(f"/run/netns/{entry['netns']}").exists():
                self._create(entry)
            self._write_hosts(record)
            return Host(key, entry["netns"], entry["address"])

    def _link(self, entry: dict) -> str:
        """The host-side end of a host's link (its name follows the host's number)."""
        return f"pv{self.tag}{entry['number']:03d}"

    def _create(self, entry: dict) -> None:
        netns, link = entry["netns"], self._link(entry)
        # A link of an earlier host with this number, left by an interrupted run: its name
        # is ours (the tag), and the new link needs it.
        self.run("link", "del", link, check=False)
        self.run("netns", "add", netns)
        peer = ["name", "eth0", "address", mac_address(entry["address"]), "netns", netns]
        self.run("link", "add", link, "type", "veth", "peer", *peer)
        self.run("link", "set", link, "master", self.bridge, "up")
        self.run("-n", netns, "addr", "add", f"{entry['address']}/24", "dev", "eth0")
        self.run("-n", netns, "link", "set", "eth0", "up")
        self.run("-n", netns, "link", "set", "lo", "up")

    def _write_hosts(self, record: dict) -> None:
        """Every namespace's /etc/hosts: each host's names (rewritten in place: bind mounts)."""
        lines = ["127.0.0.1 localhost"]
        lines += [
            f"{entry['address']} {' '.join(entry['names'])}"
            for entry in record["hosts"].values()
            if entry["names"]
        ]
        text = "\n".join(lines) + "\n"
        for entry in record["hosts"].values():
            folder = self.etc / entry["netns"]
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "hosts", "w") as handle:
                handle.write(text)

    def remove(self, keys: Sequence[str]) -> None:
        """Delete these hosts' links, namespaces and files."""
        with self._lock:
            record = self._record()
            for key in keys:
                entry = record.get("hosts", {}).pop(key, None)
                if entry is not None:
                    self._delete(entry)
            if record:
                write_json(self.record_file, record)
                self._write_hosts(record)

    def remove_prefix(self, prefix: str) -> None:
        """Delete every host whose key starts with ``prefix`` (a deploy's instances)."""
        keys = [key for key in self._record().get("hosts", {}) if key.startswith(prefix)]
        self.remove(keys)

    def _delete(self, entry: dict) -> None:
        # The link first, at once: deleting the namespace alone takes its end of the link
        # down later, in the kernel's own time, and a host created meanwhile on the same
        # number would find the name still taken.
        self.run("link", "del", self._link(entry), check=False)
        self.run("netns", "del", entry["netns"], check=False)
        shutil.rmtree(self.etc / entry["netns"], ignore_errors=True)

    def destroy(self) -> None:
        """Remove every host, the bridge and the record; the guard route goes with the last."""
        with self._lock, self._machine_wide():
            record = self._record()
            for entry in record.get("hosts", {}).values():
                self._delete(entry)
            self.run("link", "del", self.bridge, check=False)
            self.record_file.unlink(missing_ok=True)
            bridges = [p.name for p in Path("/sys/class/net").iterdir()]
            if not any(name.startswith(BRIDGE_PREFIX) for name in bridges):
                self.run("route", "del", "unreachable", str(RANGE), check=False)
