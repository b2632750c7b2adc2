"""The browser's own network namespace. Chromium drops every load in flight when the machine's
network links change (``net::ERR_NETWORK_CHANGED``), and the other tests' containers and
namespaces change them at any time; in a namespace of its own, holding only a loopback link, it
sees none of those changes. It reaches this machine's loopback addresses, and nothing else,
through a SOCKS5 gateway (RFC 1928) listening inside that namespace."""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import select
import socket
import struct
import subprocess
import threading
from pathlib import Path

CLONE_NEWNET = 0x40000000
# The script Playwright starts as the browser: Chromium, entered into the namespace.
LAUNCHER = Path(__file__).with_name("chromium-in-netns")
SOCKS_VERSION = 5
NO_AUTHENTICATION = 0
CONNECT = 1
ADDRESS_READERS = {1: "ipv4", 3: "name", 4: "ipv6"}
SUCCEEDED, NOT_ALLOWED, UNREACHABLE, UNSUPPORTED = 0, 2, 4, 7

_libc = ctypes.CDLL(None, use_errno=True)


class BrowserNetworkError(Exception):
    """The browser's namespace could not be made (this needs root, or CAP_SYS_ADMIN)."""


def _enter(namespace_fd: int | None = None) -> None:
    """Move the calling thread, only, into a new network namespace or into ``namespace_fd``'s."""
    if namespace_fd is None:
        done = _libc.unshare(CLONE_NEWNET)
    else:
        done = _libc.setns(namespace_fd, CLONE_NEWNET)
    if done != 0:
        error = os.strerror(ctypes.get_errno())
        raise BrowserNetworkError(
            f"cannot make the browser's network namespace: {error} (run the tests as root)"
        )


def _read(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the browser closed the connection mid-request")
        data += chunk
    return data


def loopback(host: str) -> str | None:
    """``host``'s loopback address on this machine, or None when it names anything else."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return None
    addresses = [info[4][0] for info in infos]
    return next((a for a in addresses if ipaddress.ip_address(a).is_loopback), None)


class BrowserNetwork:
    """A network namespace with a SOCKS5 gateway to this machine's loopback, for one browser:
    ``with BrowserNetwork() as network:`` then launch with ``network.launch_options()``."""

    def __init__(self) -> None:
        self.reached: list[str] = []  # the destinations the gateway connected the browser to
        self.refused: list[str] = []  # the destinations it would not reach
        self._host_namespace = -1
        self._listener: socket.socket | None = None
        self._namespace = ""
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="browser-gateway", daemon=True)

    def __enter__(self) -> BrowserNetwork:
        self._host_namespace = os.open("/proc/self/ns/net", os.O_RDONLY)
        self._thread.start()
        self._ready.wait()
        if self._failure:
            self.close()
            raise self._failure
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def namespace(self) -> str:
        """The namespace's path, for ``nsenter --net=``."""
        return self._namespace

    def launch_options(self, executable: str, args: list[str]) -> dict:
        """Playwright's ``launch`` arguments that start ``executable`` inside the namespace,
        every request of it through the gateway (loopback included: ``<-loopback>``)."""
        port = self._listener.getsockname()[1]
        proxy = [f"--proxy-server=socks5://127.0.0.1:{port}", "--proxy-bypass-list=<-loopback>"]
        env = os.environ | {
            "MINESTRONE_BROWSER_NETNS": self._namespace,
            "MINESTRONE_BROWSER_BINARY": executable,
        }
        return {"executable_path": str(LAUNCHER), "args": args + proxy, "env": env}

    def close(self) -> None:
        """Stop the gateway; the namespace goes with the last process in it."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
            self._listener.close()
        if self._thread.ident is not None:
            self._thread.join(timeout=10)
        if self._host_namespace >= 0:
            os.close(self._host_namespace)
            self._host_namespace = -1

    def _serve(self) -> None:
        try:
            _enter()
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)
            self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
            self._namespace = f"/proc/{os.getpid()}/task/{threading.get_native_id()}/ns/net"
        except (BrowserNetworkError, OSError, subprocess.CalledProcessError) as exc:
            self._failure = exc
            return
        finally:
            self._ready.set()
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._relay, args=(connection,), daemon=True).start()

    def _relay(self, browser_side: socket.socket) -> None:
        """One CONNECT of the browser: to its loopback destination, bytes both ways."""
        _enter(self._host_namespace)  # this thread was born in the browser's namespace
        with browser_side:
            try:
                target = self._connect(browser_side)
            except (ConnectionError, OSError):
                return
            if target is not None:
                with target:
                    _pipe(browser_side, target)

    def _connect(self, browser_side: socket.socket) -> socket.socket | None:
        version, methods = _read(browser_side, 2)
        offered = _read(browser_side, methods)
        if version != SOCKS_VERSION or NO_AUTHENTICATION not in offered:
            browser_side.sendall(bytes([SOCKS_VERSION, 0xFF]))
            return None
        browser_side.sendall(bytes([SOCKS_VERSION, NO_AUTHENTICATION]))
        _, command, _, kind = _read(browser_side, 4)
        reader = ADDRESS_READERS.get(kind)
        if reader == "ipv4":
            host = socket.inet_ntop(socket.AF_INET, _read(browser_side, 4))
        elif reader == "ipv6":
            host = socket.inet_ntop(socket.AF_INET6, _read(browser_side, 16))
        elif reader == "name":
            host = _read(browser_side, _read(browser_side, 1)[0]).decode("idna")
        else:
            return self._answer(browser_side, UNSUPPORTED)
        (port,) = struct.unpack(">H", _read(browser_side, 2))
        if command != CONNECT:
            return self._answer(browser_side, UNSUPPORTED)
        address = loopback(host)
        if address is None:
            self.refused.append(f"{host}:{port}")
            return self._answer(browser_side, NOT_ALLOWED)
        try:
            target = socket.create_connection((address, port), timeout=10)
        except OSError:
            return self._answer(browser_side, UNREACHABLE)
        target.settimeout(None)
        self.reached.append(f"{host}:{port}")
        self._answer(browser_side, SUCCEEDED)
        return target

    @staticmethod
    def _answer(browser_side: socket.socket, code: int) -> None:
        browser_side.sendall(bytes([SOCKS_VERSION, code, 0, 1, 0, 0, 0, 0, 0, 0]))


def _pipe(one: socket.socket, other: socket.socket) -> None:
    """Copy bytes between two connected sockets until either side closes."""
    peers = {one: other, other: one}
    while True:
        readable, _, _ = select.select(list(peers), [], [])
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            peers[source].sendall(data)
