"""Connection URLs: built with every part quoted, and parsed back."""

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit


def _netloc(user: str, password: str, host: str, port: int) -> str:
    return f"{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}"


def postgres_url(user: str, password: str, host: str, port: int, database: str) -> str:
    """A ``postgresql://`` URL (no driver suffix) for one database."""
    return f"postgresql://{_netloc(user, password, host, port)}/{quote(database, safe='')}"


def amqp_url(user: str, password: str, host: str, port: int, vhost: str = "/") -> str:
    """An ``amqp://`` URL for one virtual host (``/`` is written ``%2F``)."""
    return f"amqp://{_netloc(user, password, host, port)}/{quote(vhost, safe='')}"


def redis_url(password: str, host: str, port: int, db: int = 0, user: str = "") -> str:
    """A ``redis://`` URL for database number ``db`` (no user: Redis's default user)."""
    return f"redis://{_netloc(user, password, host, port)}/{int(db)}"


def mysql_url(user: str, password: str, host: str, port: int, database: str) -> str:
    """A ``mysql://`` URL for one database."""
    return f"mysql://{_netloc(user, password, host, port)}/{quote(database, safe='')}"


def redact(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


@dataclass(frozen=True)
class ServerURL:
    """The parts of a server URL, unquoted."""

    scheme: str
    user: str
    password: str
    host: str
    port: int
    path: str


def parse_url(url: str, default_port: int, default_path: str) -> ServerURL:
    """Split ``url`` into unquoted parts, filling in the port and path when absent."""
    parts = urlsplit(url)
    path = unquote(parts.path[1:]) if len(parts.path) > 1 else default_path
    return ServerURL(
        scheme=parts.scheme,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=parts.hostname or "localhost",
        port=parts.port or default_port,
        path=path,
    )
