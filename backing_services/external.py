"""Existing servers named by URL variables: checked and used, never started or stopped."""

import base64
import contextlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import MySQLdb

from . import process
from .errors import ServiceError, ServiceUnavailable
from .mariadb import APP_DATABASE, MariaDBService, Statements, run_statements
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


class _ExternalMixin:
    """start() only checks the server answers; stop() leaves it alone."""

    start_timeout: float

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
    """An existing PostgreSQL server (``MINESTRONE_POSTGRES_URL``); ``data_dir`` does not apply."""

    def __init__(
        self,
        url: str | None = None,
        *,
        data_dir: Path | str | None = None,
        user: str | None = None,
        start_timeout: float = 10.0,
        env: Mapping[str, str] | None = None,
        fsync: bool = True,  # noqa: ARG002 - an existing server keeps its own settings
    ) -> None:
        super().__init__()
        parts = parse_url(
            _url_from(POSTGRES_URL_ENV, url, env, ("postgres", "postgresql")), 5432, MAINTENANCE_DB
        )
        self.host, self.port, self.database = parts.host, parts.port, parts.path
        self.user, self.password = parts.user, parts.password
        self.start_timeout = start_timeout


class ExternalRabbitMQ(_ExternalMixin, RabbitMQService):
    """An existing RabbitMQ server (``MINESTRONE_RABBITMQ_URL``); vhosts via its management API."""

    def __init__(
        self,
        url: str | None = None,
        *,
        data_dir: Path | str | None = None,
        user: str | None = None,
        start_timeout: float = 10.0,
        management_url: str | None = None,
        env: Mapping[str, str] | None = None,
        opener: Callable[..., Any] = urllib.request.urlopen,
    ) -> None:
        super().__init__()
        env = os.environ if env is None else env
        parts = parse_url(_url_from(RABBITMQ_URL_ENV, url, env, ("amqp", "amqps")), 5672, "/")
        self.host, self.port, self.vhost = parts.host, parts.port, parts.path
        self.user, self.password = parts.user, parts.password
        self.start_timeout = start_timeout
        api = management_url or env.get(MANAGEMENT_URL_ENV) or f"http://{self.host}:15672"
        if not api.startswith(("http://", "https://")):
            raise ServiceError(f"{MANAGEMENT_URL_ENV} must be an http(s) URL, got {redact(api)!r}")
        self.management_url = api.rstrip("/")
        self.opener = opener

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

    def __init__(
        self,
        url: str | None = None,
        *,
        data_dir: Path | str | None = None,
        user: str | None = None,
        start_timeout: float = 10.0,
        env: Mapping[str, str] | None = None,
        appendfsync: str = "always",  # noqa: ARG002 - an existing server keeps its own settings
    ) -> None:
        super().__init__()
        parts = parse_url(_url_from(REDIS_URL_ENV, url, env, ("redis", "rediss")), 6379, "0")
        if not parts.path.isdigit():
            raise ServiceError(f"{REDIS_URL_ENV} must end in a database number, not {parts.path!r}")
        self.host, self.port, self.db = parts.host, parts.port, int(parts.path)
        self.user, self.password = parts.user, parts.password
        self.start_timeout = start_timeout


class ExternalMariaDB(_ExternalMixin, MariaDBService):
    """An existing MariaDB or MySQL server (``MINESTRONE_MYSQL_URL``); its account makes the
    databases (it needs CREATE and DROP on them)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        data_dir: Path | str | None = None,
        user: str | None = None,
        start_timeout: float = 10.0,
        env: Mapping[str, str] | None = None,
        fsync: bool = True,  # noqa: ARG002 - an existing server keeps its own settings
    ) -> None:
        super().__init__()
        parts = parse_url(
            _url_from(MYSQL_URL_ENV, url, env, ("mysql", "mariadb")), 3306, APP_DATABASE
        )
        self.host, self.port, self.database = parts.host, parts.port, parts.path
        self.user, self.password = parts.user, parts.password
        self.start_timeout = start_timeout

    grants = False  # the URL's account makes the databases: they are its own already

    def _admin(self, statements: Statements, what: str) -> None:
        """The URL's account runs them."""
        try:
            with contextlib.closing(self.connect()) as connection:
                run_statements(connection, statements)
        except MySQLdb.Error as exc:
            raise ServiceError(f"cannot {what} on {self!r}: {exc}") from exc
