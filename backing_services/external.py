"""Existing servers named by URL variables: checked and used, never started or stopped."""

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import process
from .errors import ServiceError, ServiceUnavailable
from .mariadb import APP_DATABASE, MariaDBService, Statements
from .postgres import MAINTENANCE_DB, PostgresService
from .rabbitmq import RabbitMQService
from .redis import RedisService
from .urls import parse_url, redact

POSTGRES_URL_ENV = "MINESTRONE_POSTGRES_URL"
RABBITMQ_URL_ENV = "MINESTRONE_RABBITMQ_URL"
MANAGEMENT_URL_ENV = "MINESTRONE_RABBITMQ_MANAGEMENT_URL"
REDIS_URL_ENV = "MINESTRONE_REDIS_URL"
MYSQL_URL_ENV = "MINESTRONE_MYSQL_URL"


def _url_from(env_name: str, url: str | None, env: Mapping[str, str] | None, schemes: tuple) -> str:
    url = url or (os.environ if env is None else env).get(env_name, "")
    if not url:
        raise ServiceUnavailable(f"{env_name} is not set")
    if url.split("://", 1)[0] not in schemes:
        raise ServiceError(
            f"{env_name} must start with {' or '.join(schemes)}://, got {redact(url)!r}"
        )
    return url


# Settings of the servers we start; an existing server keeps its own, so they are ignored.
SERVER_SETTINGS = frozenset({"fsync", "appendfsync", "test_databases", "vhost"})


class _ExternalMixin:
    """Built from a URL (or its variable); start() only checks the server answers; stop() leaves
    it alone. ``data_dir`` and ``user`` do not apply."""

    url_variable: str
    schemes: tuple[str, ...]
    default_port: int
    default_path: str

    def __init__(
        self,
        url: str | None = None,
        *,
        data_dir: Path | str | None = None,
        user: str | None = None,
        start_timeout: float = 10.0,
        env: Mapping[str, str] | None = None,
        **settings: object,
    ) -> None:
        super().__init__()
        unknown = set(settings) - SERVER_SETTINGS
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments: {sorted(unknown)}")
        url = _url_from(self.url_variable, url, env, self.schemes)
        parts = parse_url(url, self.default_port, self.default_path)
        self.host, self.port = parts.host, parts.port
        self.user, self.password = parts.user, parts.password
        self.start_timeout = start_timeout
        self._take_path(parts.path)

    def _take_path(self, path: str) -> None:
        """Keep what the URL's path names (a database, a virtual host, a number)."""
        raise NotImplementedError

    def _start(self) -> None:
        process.wait_until_ready(
            self.check_ready,
            alive=lambda: True,
            timeout=self.start_timeout,
            what=f"the server at {self.host}:{self.port}",
            tail=lambda: "",
        )

    def _stop(self) -> None:
        """Nothing to stop: the server is not ours."""


class ExternalPostgres(_ExternalMixin, PostgresService):
    """An existing PostgreSQL server (``MINESTRONE_POSTGRES_URL``)."""

    url_variable, schemes = POSTGRES_URL_ENV, ("postgres", "postgresql")
    default_port, default_path = 5432, MAINTENANCE_DB

    def _take_path(self, path: str) -> None:
        self.database = path


class ExternalRabbitMQ(_ExternalMixin, RabbitMQService):
    """An existing RabbitMQ server (``MINESTRONE_RABBITMQ_URL``); vhosts via its management API."""

    url_variable, schemes = RABBITMQ_URL_ENV, ("amqp", "amqps")
    default_port, default_path = 5672, "/"

    def __init__(
        self,
        url: str | None = None,
        *,
        management_url: str | None = None,
        env: Mapping[str, str] | None = None,
        opener: Callable[..., Any] = urllib.request.urlopen,
        **kwargs: Any,
    ) -> None:
        env = os.environ if env is None else env
        super().__init__(url, env=env, **kwargs)
        api = management_url or env.get(MANAGEMENT_URL_ENV) or f"http://{self.host}:15672"
        if not api.startswith(("http://", "https://")):
            raise ServiceError(f"{MANAGEMENT_URL_ENV} must be an http(s) URL, got {redact(api)!r}")
        self.management_url = api.rstrip("/")
        self.opener = opener

    def _take_path(self, path: str) -> None:
        self.vhost = path

    def _api(
        self, method: str, path: str, body: dict | None = None, missing_ok: bool = False
    ) -> None:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - http(s) checked in __init__
            f"{self.management_url}/api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        )
        try:
            with self.opener(request, timeout=10):
                return
        except urllib.error.HTTPError as exc:
            if missing_ok and exc.code == 404:
                return
            raise ServiceError(
                f"{method} {request.full_url}: HTTP {exc.code} {exc.reason}"
            ) from exc
        except OSError as exc:
            raise ServiceError(
                f"cannot manage virtual hosts on {self.host}:{self.port}: its management API at "
                f"{self.management_url} does not answer ({exc}). Enable the rabbitmq_management "
                f"plugin or set {MANAGEMENT_URL_ENV}"
            ) from exc

    def _create_vhost(self, name: str) -> None:
        vhost = quote(name, safe="")
        self._api("PUT", f"vhosts/{vhost}")
        permissions = {"configure": ".*", "write": ".*", "read": ".*"}
        self._api("PUT", f"permissions/{vhost}/{quote(self.user, safe='')}", permissions)

    def _delete_vhost(self, name: str) -> None:
        self._api("DELETE", f"vhosts/{quote(name, safe='')}", missing_ok=True)


class ExternalRedis(_ExternalMixin, RedisService):
    """An existing Redis server (``MINESTRONE_REDIS_URL``); database numbers claimed, not made."""

    url_variable, schemes = REDIS_URL_ENV, ("redis", "rediss")
    default_port, default_path = 6379, "0"

    def _take_path(self, path: str) -> None:
        if not path.isdigit():
            raise ServiceError(f"{REDIS_URL_ENV} must end in a database number, not {path!r}")
        self.db = int(path)


class ExternalMariaDB(_ExternalMixin, MariaDBService):
    """An existing MariaDB or MySQL server (``MINESTRONE_MYSQL_URL``); its account makes the
    databases (it needs CREATE and DROP on them)."""

    url_variable, schemes = MYSQL_URL_ENV, ("mysql", "mariadb")
    default_port, default_path = 3306, APP_DATABASE
    grants = False  # the URL's account makes the databases: they are its own already

    def _take_path(self, path: str) -> None:
        self.database = path

    def _admin(self, statements: Statements, what: str) -> None:
        """The URL's account runs them."""
        self._run(self.connect, statements, what)
