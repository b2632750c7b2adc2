"""Where an instance, a data service or the router is reached: the one home of its address."""

from __future__ import annotations

from machine.address import LOOPBACK, host_port

__all__ = ["LOOPBACK", "host_port", "http_url"]


def http_url(port: int, host: str = LOOPBACK) -> str:
    """``http://host:port/``."""
    return f"http://{host_port(port, host)}/"
