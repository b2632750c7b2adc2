"""Turn the platform's environment file (``~/environment.json``) into Django and Celery settings."""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
    _check_secret_key,
)
from django.core.exceptions import ImproperlyConfigured

from minestrone import platform_services
from minestrone.queues import DEFAULT_DELIVERY_LIMIT, DELIVERY_LIMIT_VARIABLE, parse_delivery_limit

ENV_FILE_VARIABLE = "MINESTRONE_ENV_FILE"
DEFAULT_DATABASE_NAME = "minestrone"
DEV_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
# The names the site answers to on the machine itself, in development and on every instance.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")

CLOUDAMQP_PREFIX = "CLOUDAMQP_RABBITMQ_AMQP_"
CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_MS = 10_000  # the server stops a statement running longer (migrations: none)
HTTPS_VARIABLE = "DJANGO_BEHIND_HTTPS"
API_URL_VARIABLE = "MONITOR_BROKER_API_URL"
# A RabbitMQ cluster's every node, as platform_sim and the exports give them (DOTCLOUD_<NAME>_
# AMQP_URLS), in kombu's failover form.
NODE_URLS = "URLS"
FAILOVER_SEPARATOR = ";"
# The proxies in front of the app, each adding the address it saw to X-Forwarded-For: the client
# is that many addresses from the right. Each deployment sets it for its topology: the platform
# (front router, instance nginx) 2, Compose (the container's nginx) 1, Kubernetes (Ingress, the
# pod's nginx) 2; one more per extra front end (such as a TLS terminator). Without it: 2, the
# platform's.
PROXIES_VARIABLE = "TRUSTED_PROXIES"
PLATFORM_PROXIES = 2
MAX_PROXIES = 9
MAX_REDIS_NUMBER_DIGITS = 5
MAX_FILE_BYTES = 1024 * 1024  # an environment file is a few kilobytes
JOB_RATE_VARIABLE = "SOUP_ANONYMOUS_JOB_RATE"
DEFAULT_JOB_RATE = "30/m"  # jobs an anonymous client (an address, an IPv6 /64) may queue
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class PlatformSettings:
    """The settings the app takes from its environment, frozen once read."""

    source: str
    database: dict
    broker_url: str
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    media_root: Path
    lazy_job_seconds: float = 5.0
    development: bool = False
    behind_https: bool = False
    trusted_proxies: int = 0
    broker_api_url: str | None = None
    anonymous_job_rate: str = DEFAULT_JOB_RATE
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    def describe(self) -> str:
        """Say in one line which database and broker these settings use."""
        if self.database["ENGINE"].endswith("sqlite3"):
            database = f"SQLite at {self.database['NAME']}"
        else:
            vendor = "MariaDB" if self.database["ENGINE"].endswith("mysql") else "PostgreSQL"
            database = (
                f"{vendor} database {self.database['NAME']!r} on "
                f"{self.database['HOST']}:{self.database['PORT']}"
            )
        return f"{self.source}: database {database}, broker {redact_url(self.broker_url)}"


def redact_url(url: str) -> str:
    """Hide the password of a URL such as ``amqp://user:secret@host//``."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def environment_file_path(environ: os._Environ | dict) -> Path | None:
    """Return the environment file to read, or None for development mode.

    ``MINESTRONE_ENV_FILE`` names the file (it must then exist); set to an empty string it asks
    for development mode explicitly. Unset, ``$HOME/environment.json`` is used when present, as
    on the platform, and development mode otherwise.
    """
    if ENV_FILE_VARIABLE in environ:
        value = environ[ENV_FILE_VARIABLE].strip()
        return Path(value).expanduser() if value else None
    default = Path(environ.get("HOME") or Path.home()) / "environment.json"
    return default if default.exists() else None


def shown(value: object, limit: int = 60) -> str:
    """A value as Python writes it, on one line and cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown_key(key: str, limit: int = 80) -> str:
    """A key for an error message: a very long one keeps its start and end, cut in the middle."""
    if len(key) <= limit:
        return key
    half = (limit - 1) // 2
    return f"{key[:half]}…{key[-half:]}"


# Keys whose values are never printed, not even in an error about them.
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY|TOKEN", re.IGNORECASE)


def named(key: str, value: object) -> str:
    """``KEY='value'`` for an error message; for a secret's key, its type only."""
    if _SECRET_NAME.search(key):
        kind = {str: "text", bool: "a boolean", list: "a list", dict: "an object"}.get(
            type(value), "a number"
        )
        return f"{shown_key(key)} (value hidden: {kind})"
    return f"{shown_key(key)}={shown(value)}"


def read_environment_file(path: Path) -> dict[str, object]:
    """Read a JSON object; any problem raises ImproperlyConfigured naming the file.

    Values are kept as JSON gave them; ``_Lookup`` checks the type of the keys it reads.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImproperlyConfigured(
                f"The environment file {path} is larger than {MAX_FILE_BYTES} bytes: it is not "
                "an environment file."
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"The environment file {path} does not exist. Point {ENV_FILE_VARIABLE} at the "
            f"platform's environment.json, or set {ENV_FILE_VARIABLE}= (empty) for development "
            "mode."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(
            f"The environment file {path} cannot be read ({exc}). Check its permissions."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(
            f"The environment file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}."
        ) from None
    except (ValueError, RecursionError) as exc:  # too many digits, too deeply nested
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        problem = shown(problem.split(":")[0], 100).strip("'\"")
        raise ImproperlyConfigured(
            f"The environment file {path} is not valid JSON: {problem}."
        ) from None
    if not isinstance(data, dict):
        raise ImproperlyConfigured(
            f"The environment file {path} must hold a JSON object of KEY: value pairs, "
            f"not a {type(data).__name__}."
        )
    return data


class _Lookup:
    """Look keys up in the environment file, then in the process environment."""

    def __init__(self, path: Path, data: dict[str, object], environ):
        self.path = path
        self.data = data
        self.environ = environ

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return a key's text from the file, else the process environment, else default.

        A string or a whole number is taken as text; null counts as absent; any other JSON
        value (list, object, boolean, fraction) and text that is not valid Unicode are refused.
        """
        value = self.data.get(key)
        if value is None:
            value = self.environ.get(key)
            where = "The process environment"
        else:
            where = f"The environment file {self.path}"
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            kind = {bool: "a boolean", list: "a list", dict: "an object"}.get(
                type(value), "a number"
            )
            raise ImproperlyConfigured(
                f"{where} has {named(key, value)}, {kind}: write it as a JSON string."
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ImproperlyConfigured(
                f"{where} has {named(key, value)}, which is not valid Unicode text (a lone "
                "surrogate): write it again."
            ) from None
        if "\x00" in value:
            raise ImproperlyConfigured(f"{where} has {named(key, value)}, which holds a NUL.")
        return value

    def require(self, key: str, hint: str = "") -> str:
        """Return a key's value, or raise ImproperlyConfigured naming the file and the key."""
        value = self.get(key)
        if value is None or value == "":
            message = f"The environment file {self.path} has no {shown_key(key)}."
            raise ImproperlyConfigured(f"{message} {hint}".strip())
        return value

    def port(self, key: str) -> int:
        """Return a required key as a TCP port number."""
        value = self.require(key)
        digits = value.strip()
        port = int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 6 else 0
        if not 0 < port < 65536:
            raise ImproperlyConfigured(
                f"The environment file {self.path} has {named(key, value)}, which is not a port "
                "number (1 to 65535)."
            )
        return port


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    """Read a yes/no setting such as DJANGO_DEBUG."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={shown(value)} is not a boolean: use 1/0, true/false or yes/no."
    )


def parse_seconds(name: str, value: str | None, default: float) -> float:
    """Read a non-negative number of seconds such as SOUP_LAZY_JOB_SECONDS."""
    if value is None or value.strip() == "":
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise ImproperlyConfigured(f"{name}={shown(value)} is not a number of seconds (e.g. 0.5).")
    return seconds


def parse_job_rate(value: str | None) -> str:
    """Read SOUP_ANONYMOUS_JOB_RATE: jobs per second, minute or hour an anonymous client may
    queue (``0``: no limit)."""
    if value is None or value.strip() == "":
        return DEFAULT_JOB_RATE
    from minestrone.monitor.errors import InvalidRate
    from minestrone.monitor.rates import parse_rate

    try:
        return parse_rate(value)
    except InvalidRate as exc:
        raise ImproperlyConfigured(f"{JOB_RATE_VARIABLE}={shown(value)}: {exc}") from None


def parse_api_url(name: str, value: str | None) -> str | None:
    """Read the base URL of RabbitMQ's management API such as MONITOR_BROKER_API_URL."""
    if value is None or value.strip() == "":
        return None
    from minestrone.monitor.broker_api import check_base_url

    try:
        return check_base_url(value.strip())
    except ValueError as exc:
        shown_value = shown(redact_url(value))
        raise ImproperlyConfigured(f"{name}={shown_value} is refused: {exc}.") from None


def parse_proxies(value: str | None, default: int) -> int:
    """Read TRUSTED_PROXIES: how many proxies in front of the app add to X-Forwarded-For."""
    if value is None or value.strip() == "":
        return default
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit() and int(digits) <= MAX_PROXIES):
        raise ImproperlyConfigured(
            f"{PROXIES_VARIABLE}={shown(value)} is not a number of proxies (0 to {MAX_PROXIES}): "
            "count those in front of the app that add to X-Forwarded-For (platform 2, Compose 1, "
            "Kubernetes 2; one more per extra front end)."
        )
    return int(digits)


def _database(lookup: _Lookup) -> dict:
    where = f"The environment file {lookup.path}"
    services = platform_services.data_services(lookup.data)
    service = platform_services.chosen(
        where,
        services,
        lookup.get(platform_services.DATABASE_CHOICE),
        "database",
        platform_services.DATABASE_KINDS,
        platform_services.DATABASE_CHOICE,
    )
    if service is None:
        raise ImproperlyConfigured(
            platform_services.none_found(
                where, services, "database", platform_services.DATABASE_KINDS
            )
        )
    prefix = service.prefix
    # the platform names the database its login owns; without it (a managed server's own
    # login), the app's default, created by migrate_safely when the login may
    name = lookup.get("DJANGO_DB_NAME") or lookup.get(prefix + "DATABASE") or DEFAULT_DATABASE_NAME
    database = {
        "NAME": name,
        "USER": lookup.require(prefix + "LOGIN"),
        "PASSWORD": lookup.require(prefix + "PASSWORD"),
        "HOST": lookup.require(prefix + "HOST"),
        "PORT": lookup.port(prefix + "PORT"),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
    if service.kind == "mysql":
        return {"ENGINE": "django.db.backends.mysql", **database, "OPTIONS": mysql_options()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        **database,
        # A server that is up but slow stops a statement itself; one that is frozen is given
        # up on by the client (minestrone/deployment/dbwait.py), a little later.
        "OPTIONS": {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        },
    }


def mysql_options(statement_seconds: float = STATEMENT_TIMEOUT_MS / 1000) -> dict:
    """mysqlclient's options: MariaDB stops a statement after ``statement_seconds`` itself
    (``max_statement_time``; 0: never), and the client gives up on a server silent for longer
    (``read_timeout``: a frozen server), as dbwait does for PostgreSQL."""
    from minestrone.deployment.dbwait import ANSWER_SECONDS

    options = {
        "charset": "utf8mb4",
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "init_command": f"SET SESSION max_statement_time = {statement_seconds:g}",
    }
    if statement_seconds:
        options |= {"read_timeout": int(ANSWER_SECONDS), "write_timeout": int(ANSWER_SECONDS)}
    return options


def amqp_url(host: str, port: int, login: str, password: str, vhost: str) -> str:
    """Build an ``amqp://`` URL; the virtual host is quoted, so ``/`` becomes ``%2F``."""
    credentials = f"{quote(login, safe='')}:{quote(password, safe='')}"
    return f"amqp://{credentials}@{host}:{port}/{quote(vhost, safe='')}"


def redis_url(host: str, port: int, password: str, number: int = 0) -> str:
    """Build a ``redis://`` URL to database ``number``; the password (Redis ``requirepass``,
    which has no user: the platform's login is not sent) is quoted."""
    return f"redis://:{quote(password, safe='')}@{host}:{port}/{number}"


def _broker_url(lookup: _Lookup) -> str:
    where = f"The environment file {lookup.path}"
    choice = lookup.get(platform_services.BROKER_CHOICE)
    if lookup.get(CLOUDAMQP_PREFIX + "HOST") is not None and not (choice or "").strip():
        return _amqp_broker_url(lookup, CLOUDAMQP_PREFIX, None)
    services = platform_services.data_services(lookup.data)
    service = platform_services.chosen(
        where,
        services,
        choice,
        "broker",
        platform_services.BROKER_KINDS,
        platform_services.BROKER_CHOICE,
    )
    if service is None:
        raise ImproperlyConfigured(
            f"{where} has no {CLOUDAMQP_PREFIX}HOST and no broker service"
            f"{platform_services.unable(services)}: add the CloudAMQP add-on, or a `rabbitmq` "
            "or `redis` service to dotcloud.yml."
        )
    if service.kind == "redis":
        return redis_url(
            lookup.require(service.prefix + "HOST"),
            lookup.port(service.prefix + "PORT"),
            lookup.require(service.prefix + "PASSWORD"),
            _redis_number(lookup, service.prefix + "URL"),
        )
    return _amqp_broker_url(lookup, service.prefix, "/")


def _redis_number(lookup: _Lookup, key: str) -> int:
    """The database number a Redis service's URL ends with (``/3``); 0 when it names none."""
    url = lookup.get(key) or ""
    try:
        path = urlsplit(url).path.strip("/")
    except ValueError:
        path = "?"
    if path == "":
        return 0
    if not (path.isascii() and path.isdigit() and len(path) <= MAX_REDIS_NUMBER_DIGITS):
        raise ImproperlyConfigured(
            f"The environment file {lookup.path} has {named(key, redact_url(url))}, which does "
            "not end with a Redis database number (such as /0)."
        )
    return int(path)


def _amqp_broker_url(lookup: _Lookup, prefix: str, default_vhost: str | None) -> str:
    """The broker's URL; for a cluster (``<prefix>URLS``), every node's, node 0 first,
    joined by ";": kombu connects to the first that answers and fails over to the next."""
    vhost = lookup.get(prefix + "VIRTUALHOST") or default_vhost
    if vhost is None:
        vhost = lookup.require(prefix + "VIRTUALHOST")
    nodes = [(lookup.require(prefix + "HOST"), lookup.port(prefix + "PORT"))]
    login, password = lookup.require(prefix + "LOGIN"), lookup.require(prefix + "PASSWORD")
    if lookup.get(prefix + NODE_URLS) is not None:
        nodes = _node_addresses(lookup, prefix + NODE_URLS)
    return FAILOVER_SEPARATOR.join(
        amqp_url(host, port, login, password, vhost) for host, port in nodes
    )


def _node_addresses(lookup: _Lookup, key: str) -> list[tuple[str, int]]:
    """The host and port of every URL in a cluster's ``_AMQP_URLS`` (";"-separated)."""
    value = lookup.require(key)
    nodes = []
    for url in value.split(FAILOVER_SEPARATOR):
        try:
            parts = urlsplit(url.strip())
            host, port = parts.hostname, parts.port
        except ValueError:
            host = port = None
        if not host or not port or parts.scheme not in ("amqp", "amqps"):
            raise ImproperlyConfigured(
                f"The environment file {lookup.path} has {named(key, redact_url(value))}, "
                "which is not a list of amqp://HOST:PORT URLs separated by \";\"."
            )
        nodes.append((host, port))
    return nodes


def _allowed_hosts(lookup: _Lookup) -> list[str]:
    hosts = set(LOCAL_HOSTS)
    for key in lookup.data:
        if key.startswith("DOTCLOUD_") and key.endswith("_HTTP_HOST"):
            value = lookup.get(key)
            if value:
                hosts.add(value.split(":")[0])
    extra = lookup.get("DJANGO_ALLOWED_HOSTS") or ""
    hosts.update(host.strip() for host in extra.split(",") if host.strip())
    return sorted(hosts)


def platform_settings(path: Path, environ) -> PlatformSettings:
    """Read the settings of a platform instance from its environment file."""
    lookup = _Lookup(path, read_environment_file(path), environ)
    return PlatformSettings(
        source=f"environment file {path}",
        database=_database(lookup),
        broker_url=_broker_url(lookup),
        secret_key=strong_secret_key(lookup),
        debug=parse_bool("DJANGO_DEBUG", lookup.get("DJANGO_DEBUG"), default=False),
        allowed_hosts=_allowed_hosts(lookup),
        media_root=Path(environ.get("HOME") or Path.home()) / "data" / "media",
        lazy_job_seconds=parse_seconds(
            "SOUP_LAZY_JOB_SECONDS", lookup.get("SOUP_LAZY_JOB_SECONDS"), 5.0
        ),
        behind_https=parse_bool(HTTPS_VARIABLE, lookup.get(HTTPS_VARIABLE), default=False),
        trusted_proxies=parse_proxies(lookup.get(PROXIES_VARIABLE), PLATFORM_PROXIES),
        broker_api_url=parse_api_url(API_URL_VARIABLE, lookup.get(API_URL_VARIABLE)),
        anonymous_job_rate=parse_job_rate(lookup.get(JOB_RATE_VARIABLE)),
        delivery_limit=parse_delivery_limit(lookup.get(DELIVERY_LIMIT_VARIABLE)),
    )


def strong_secret_key(lookup: _Lookup) -> str:
    """DJANGO_SECRET_KEY, refused unless Django's own check finds it long and varied enough."""
    how = (
        "Set it as an application variable (platform_sim env set DJANGO_SECRET_KEY=...), "
        "the same on every service; never commit it. Generate one with: python3 -c "
        "'import secrets; print(secrets.token_urlsafe(50))'"
    )
    key = lookup.require("DJANGO_SECRET_KEY", how)
    if not _check_secret_key(key):
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is too weak: Django wants at least {SECRET_KEY_MIN_LENGTH} "
            f"characters, {SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different, and no "
            f"{SECRET_KEY_INSECURE_PREFIX!r} prefix. {how}"
        )
    return key


def development_settings(base_dir: Path, environ) -> PlatformSettings:
    """Settings for working on a laptop: SQLite next to manage.py and a local RabbitMQ."""
    return PlatformSettings(
        source="development mode (no environment file)",
        database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(base_dir / "dev.sqlite3")},
        broker_url=environ.get("MINESTRONE_BROKER_URL") or DEV_BROKER_URL,
        secret_key=environ.get("DJANGO_SECRET_KEY") or development_secret_key(base_dir),
        debug=parse_bool("DJANGO_DEBUG", environ.get("DJANGO_DEBUG"), default=True),
        allowed_hosts=list(LOCAL_HOSTS),
        media_root=base_dir.parent / "media",
        lazy_job_seconds=parse_seconds(
            "SOUP_LAZY_JOB_SECONDS", environ.get("SOUP_LAZY_JOB_SECONDS"), 5.0
        ),
        development=True,
        behind_https=parse_bool(HTTPS_VARIABLE, environ.get(HTTPS_VARIABLE), default=False),
        broker_api_url=parse_api_url(API_URL_VARIABLE, environ.get(API_URL_VARIABLE)),
        trusted_proxies=parse_proxies(environ.get(PROXIES_VARIABLE), 0),
        anonymous_job_rate=parse_job_rate(environ.get(JOB_RATE_VARIABLE)),
        delivery_limit=parse_delivery_limit(environ.get(DELIVERY_LIMIT_VARIABLE)),
    )


def development_secret_key(base_dir: Path) -> str:
    """Return this checkout's own random development key, created owner-only on first use."""
    path = base_dir / ".dev-secret-key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def load(base_dir: Path, environ=None, announce=None) -> PlatformSettings:
    """Find the environment file and read the settings; in development mode, say so on stderr."""
    environ = os.environ if environ is None else environ
    path = environment_file_path(environ)
    if path is None:
        settings = development_settings(base_dir, environ)
        (announce or _announce)(f"minestrone: {settings.describe()}")
        return settings
    return platform_settings(path, environ)


def _announce(line: str) -> None:
    print(line, file=sys.stderr)
