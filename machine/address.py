"""The loopback address every local server listens on and every local client reaches."""

LOOPBACK = "127.0.0.1"


def host_port(port: int, host: str = LOOPBACK) -> str:
    """``host:port``."""
    return f"{host}:{port}"
