"""Free TCP ports on the loopback interface."""

import contextlib
import socket

from machine.address import LOOPBACK

from .errors import PortInUse


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could listen on ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port with only TIME_WAIT connections left counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port_free(port: int, what: str, host: str = LOOPBACK) -> None:
    """Raise PortInUse when ``host:port`` is taken."""
    if not port_is_free(port, host):
        raise PortInUse(
            f"cannot start {what}: port {port} on {host} is already in use; "
            "choose another port or leave it unset to get a free one"
        )


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct ports that are free now (the kernel's choice)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(sock.getsockname()[1])
    return ports


def free_port(host: str = LOOPBACK) -> int:
    """One port that is free now."""
    return free_ports(1, host)[0]
