"""Where an instance, a data service or the router is reached: the one home of its address."""

from __future__ import annotations

LOOPBACK = "127.0.0.1"


def host_port(port: int, host: str = LOOPBACK) -> str:
    """``host:port``."""
    return f"{host}:{port}"


def http_url(port: int, host: str = LOOPBACK) -> str:
    """``http://host:port/``."""
    return f"http://{host_port(port, host)}/"
