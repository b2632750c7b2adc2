"""Real PostgreSQL, RabbitMQ, Redis and MariaDB servers for the tests and the local platform."""

from __future__ import annotations

import importlib

# Where each public name lives. Imported on first use: a command that needs only the errors
# (platform_sim's CLI, each platform host) does not pay for the container engine's client and
# the Redis and MySQL clients.
_HOMES = {
    "Service": "base",
    "mariadb_server": "choice",
    "postgres_server": "choice",
    "rabbitmq_server": "choice",
    "redis_server": "choice",
    "DockerMariaDB": "containers",
    "DockerPostgres": "containers",
    "DockerRabbitMQ": "containers",
    "DockerRedis": "containers",
    "docker_available": "containers",
    "PortInUse": "errors",
    "ServiceError": "errors",
    "ServiceStartError": "errors",
    "ServiceUnavailable": "errors",
    "ExternalMariaDB": "external",
    "ExternalPostgres": "external",
    "ExternalRabbitMQ": "external",
    "ExternalRedis": "external",
    "LocalMariaDB": "mariadb",
    "MariaDBService": "mariadb",
    "LocalPostgres": "postgres",
    "PostgresService": "postgres",
    "LocalRabbitMQ": "rabbitmq",
    "RabbitMQService": "rabbitmq",
    "LocalRedis": "redis",
    "RedisService": "redis",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, for ``dir()`` and completion."""
    return sorted(set(globals()) | set(_HOMES))
