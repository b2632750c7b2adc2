"""Real PostgreSQL, RabbitMQ, Redis and MariaDB servers for the tests and the local platform."""

from .base import Service
from .choice import mariadb_server, postgres_server, rabbitmq_server, redis_server
from .containers import (
    DockerMariaDB,
    DockerPostgres,
    DockerRabbitMQ,
    DockerRedis,
    docker_available,
)
from .errors import PortInUse, ServiceError, ServiceStartError, ServiceUnavailable
from .external import ExternalMariaDB, ExternalPostgres, ExternalRabbitMQ, ExternalRedis
from .mariadb import LocalMariaDB, MariaDBService
from .postgres import LocalPostgres, PostgresService
from .rabbitmq import LocalRabbitMQ, RabbitMQService
from .redis import LocalRedis, RedisService

__all__ = [
    "DockerMariaDB",
    "DockerPostgres",
    "DockerRabbitMQ",
    "DockerRedis",
    "ExternalMariaDB",
    "ExternalPostgres",
    "ExternalRabbitMQ",
    "ExternalRedis",
    "LocalMariaDB",
    "LocalPostgres",
    "LocalRabbitMQ",
    "LocalRedis",
    "MariaDBService",
    "PortInUse",
    "PostgresService",
    "RabbitMQService",
    "RedisService",
    "Service",
    "ServiceError",
    "ServiceStartError",
    "ServiceUnavailable",
    "docker_available",
    "mariadb_server",
    "postgres_server",
    "rabbitmq_server",
    "redis_server",
]
