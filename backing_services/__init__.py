"""Real PostgreSQL and RabbitMQ servers for the tests and the local platform."""

from .base import Service
from .choice import postgres_server, rabbitmq_server
from .containers import DockerPostgres, DockerRabbitMQ, docker_available
from .errors import PortInUse, ServiceError, ServiceStartError, ServiceUnavailable
from .external import ExternalPostgres, ExternalRabbitMQ
from .postgres import LocalPostgres, PostgresService
from .rabbitmq import LocalRabbitMQ, RabbitMQService

__all__ = [
    "DockerPostgres",
    "DockerRabbitMQ",
    "ExternalPostgres",
    "ExternalRabbitMQ",
    "LocalPostgres",
    "LocalRabbitMQ",
    "PortInUse",
    "PostgresService",
    "RabbitMQService",
    "Service",
    "ServiceError",
    "ServiceStartError",
    "ServiceUnavailable",
    "docker_available",
    "postgres_server",
    "rabbitmq_server",
]
