"""The data-service kinds platform_sim runs: what starts each, its extras, its readiness.

The names of their variables (``DOTCLOUD_<NAME>_SQL_*``…) are the platform's, for every type
it knew: ``environment.DATA_TAGS``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def _postgres(data: Path, user: str):  # noqa: ANN202 - a backing_services Service
    from backing_services import postgres_server

    return postgres_server(data_dir=data, user=user)


def _rabbitmq(data: Path, user: str):  # noqa: ANN202 - a backing_services Service
    from backing_services import rabbitmq_server

    return rabbitmq_server(data_dir=data, user=user)


@dataclass(frozen=True)
class Kind:
    """A data-service type: the server that runs it and whether it has virtual hosts."""

    name: str
    server: Callable[[Path, str], object]
    vhosts: bool = False

    def answers(self, host: str, port: int, timeout: float = 2.0) -> bool:
        """Readiness as the platform sees it from outside: the server accepts connections."""
        return answers(host, port, timeout)


KINDS = {
    "postgresql": Kind("postgresql", _postgres),
    "rabbitmq": Kind("rabbitmq", _rabbitmq, vhosts=True),
}


def kind(name: str) -> Kind:
    """The kind called ``name`` (KeyError for one platform_sim does not run)."""
    return KINDS[name]


def answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False
