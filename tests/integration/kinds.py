"""The other kinds of data service in an environment file (a `redis` service named `queue`, a
`mysql` service named `data`), and the Celery app of the test process on Redis."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

from kombu import pools

from minestrone import delivery
from minestrone.celery_app import app as celery_app

SECRET_KEY = "integration-tests-only-" + "k" * 40


def redis_variables(url: str) -> dict[str, str]:
    """The variables of a `redis` service named `queue` at ``url`` (its database number in
    ``_URL``, as the app reads it)."""
    parts = urlsplit(url)
    return {
        "DOTCLOUD_QUEUE_REDIS_HOST": parts.hostname or "127.0.0.1",
        "DOTCLOUD_QUEUE_REDIS_PORT": str(parts.port),
        "DOTCLOUD_QUEUE_REDIS_LOGIN": "redis",
        "DOTCLOUD_QUEUE_REDIS_PASSWORD": unquote(parts.password or ""),
        "DOTCLOUD_QUEUE_REDIS_URL": f"redis://{parts.hostname}:{parts.port}{parts.path}",
    }


# The service each database kind is in the environment files of the tests: name, tag.
DATABASE_SERVICES = {"postgresql": ("DB", "SQL"), "mysql": ("DATA", "MYSQL")}


def database_variables(kind: str, server, database: str) -> dict[str, str]:
    """The variables of a `postgresql` service named `db` or a `mysql` one named `data` on this
    server, the app's database on it, and the app's secret key."""
    name, tag = DATABASE_SERVICES[kind]
    prefix = f"DOTCLOUD_{name}_{tag}_"
    return {
        prefix + "HOST": server.host,
        prefix + "PORT": str(server.port),
        prefix + "LOGIN": server.user,
        prefix + "PASSWORD": server.password,
        "DJANGO_DB_NAME": database,
        "DJANGO_SECRET_KEY": SECRET_KEY,
    }


def database_name(url: str) -> str:
    """The database a ``mysql://`` URL names."""
    return unquote(urlsplit(url).path.lstrip("/"))


@contextlib.contextmanager
def celery_on(url: str) -> Iterator[str]:
    """Point the Celery app of this process at the broker ``url`` (RabbitMQ or Redis), with the
    app's transport options, until the end."""
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport_options
    _point(url, delivery.transport_options(url, 0.5))
    try:
        yield url
    finally:
        _point(*previous)


def _point(url: str, options: dict) -> None:
    """Point the app at ``url`` and forget what it built for the broker before: kombu's producer
    pool for a URL (it holds connections just closed), and the sender of task-sent events,
    whose exchange type is the broker's (fanout on Redis, topic on RabbitMQ)."""
    from tests.integration.conftest import point_celery_at

    point_celery_at(url)
    celery_app.conf.broker_transport_options = options
    pools.reset()
    for built in ("send_task_message", "_event_dispatcher"):
        celery_app.amqp.__dict__.pop(built, None)
