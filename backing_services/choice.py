"""Choosing a provider: Docker, then local binaries, then URLs, or as MINESTRONE_SERVICES says."""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .base import Service
from .binaries import (
    epmd_path,
    mariadb_programs,
    postgres_bin_dir,
    rabbitmq_bin_dir,
    redis_server_path,
)
from .containers import DockerMariaDB, DockerPostgres, DockerRabbitMQ, DockerRedis, engine_problem
from .errors import ServiceError, ServiceUnavailable
from .external import (
    MYSQL_URL_ENV,
    POSTGRES_URL_ENV,
    RABBITMQ_URL_ENV,
    REDIS_URL_ENV,
    ExternalMariaDB,
    ExternalPostgres,
    ExternalRabbitMQ,
    ExternalRedis,
)
from .mariadb import LocalMariaDB, MariaDBService
from .postgres import LocalPostgres, PostgresService
from .rabbitmq import LocalRabbitMQ, RabbitMQService
from .redis import LocalRedis, RedisService

MODE_ENV = "MINESTRONE_SERVICES"
AUTO_ORDER = ("docker", "local", "url")
MODES = ("auto", *AUTO_ORDER)


@dataclass(frozen=True)
class Provider:
    """One way to provide a service: ``problem()`` says why it cannot (None: it can)."""

    mode: str
    problem: Callable[[], str | None]
    build: Callable[..., Service]


def _missing(find: Callable[[], object]) -> Callable[[], str | None]:
    def problem() -> str | None:
        try:
            find()
        except ServiceUnavailable as exc:
            return exc.reason
        except ServiceError as exc:
            return str(exc)
        return None

    return problem


def _url_problem(name: str, env: Mapping[str, str]) -> Callable[[], str | None]:
    return lambda: None if env.get(name) else f"{name} is not set"


def _engine(env: Mapping[str, str]) -> Callable[[], str | None]:
    """A Docker engine; when MINESTRONE_SERVICES=docker asks for containers, Podman's API too."""
    return lambda: engine_problem(start_podman=selected_mode(env) == "docker")


@dataclass(frozen=True)
class Kind:
    """What each mode needs to provide one kind of server."""

    title: str  # for messages
    docker: Callable[..., Service]
    programs: Callable[[], object]  # finds the local programs, or raises ServiceUnavailable
    local: Callable[..., Service]
    url_variable: str
    external: Callable[..., Service]


KINDS = {
    "postgres": Kind(
        "PostgreSQL",
        DockerPostgres,
        postgres_bin_dir,
        LocalPostgres,
        POSTGRES_URL_ENV,
        ExternalPostgres,
    ),
    "rabbitmq": Kind(
        "RabbitMQ",
        DockerRabbitMQ,
        lambda: (rabbitmq_bin_dir(), epmd_path()),
        LocalRabbitMQ,
        RABBITMQ_URL_ENV,
        ExternalRabbitMQ,
    ),
    "redis": Kind(
        "Redis", DockerRedis, redis_server_path, LocalRedis, REDIS_URL_ENV, ExternalRedis
    ),
    "mariadb": Kind(
        "MariaDB", DockerMariaDB, mariadb_programs, LocalMariaDB, MYSQL_URL_ENV, ExternalMariaDB
    ),
}


def providers(kind: str, env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide ``kind`` (a key of KINDS), by mode."""
    env = os.environ if env is None else env
    spec = KINDS[kind]
    return {
        "docker": Provider("docker", _engine(env), spec.docker),
        "local": Provider("local", _missing(spec.programs), spec.local),
        "url": Provider(
            "url", _url_problem(spec.url_variable, env), lambda **kw: spec.external(env=env, **kw)
        ),
    }


def postgres_providers(env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide PostgreSQL, by mode."""
    return providers("postgres", env)


def rabbitmq_providers(env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide RabbitMQ, by mode."""
    return providers("rabbitmq", env)


def redis_providers(env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide Redis, by mode."""
    return providers("redis", env)


def mariadb_providers(env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide MariaDB (or MySQL, by URL), by mode."""
    return providers("mariadb", env)


def selected_mode(env: Mapping[str, str] | None = None) -> str:
    """The mode MINESTRONE_SERVICES asks for (``auto`` when unset)."""
    mode = (os.environ if env is None else env).get(MODE_ENV, "").strip().lower() or "auto"
    if mode not in MODES:
        raise ServiceError(f"{MODE_ENV}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def choose(what: str, providers: Mapping[str, Provider], mode: str) -> Provider:
    """The provider to use: the one ``mode`` names, or in ``auto`` the first that can."""
    problems = []
    for name in AUTO_ORDER if mode == "auto" else (mode,):
        provider = providers[name]
        problem = provider.problem()
        if problem is None:
            return provider
        problems.append(f"- {name}: {problem}")
    asked = "" if mode == "auto" else f" ({MODE_ENV}={mode})"
    raise ServiceUnavailable(f"nothing can provide {what}{asked}:\n" + "\n".join(problems))


def server(kind: str, *, env: Mapping[str, str] | None = None, **kwargs: Any) -> Service:
    """A (not yet started) server of ``kind`` from the chosen provider."""
    return choose(KINDS[kind].title, providers(kind, env), selected_mode(env)).build(**kwargs)


def postgres_server(*, env: Mapping[str, str] | None = None, **kwargs: Any) -> PostgresService:
    """A (not yet started) PostgreSQL service from the chosen provider."""
    return server("postgres", env=env, **kwargs)


def rabbitmq_server(*, env: Mapping[str, str] | None = None, **kwargs: Any) -> RabbitMQService:
    """A (not yet started) RabbitMQ service from the chosen provider."""
    return server("rabbitmq", env=env, **kwargs)


def redis_server(*, env: Mapping[str, str] | None = None, **kwargs: Any) -> RedisService:
    """A (not yet started) Redis service from the chosen provider."""
    return server("redis", env=env, **kwargs)


def mariadb_server(*, env: Mapping[str, str] | None = None, **kwargs: Any) -> MariaDBService:
    """A (not yet started) MariaDB service from the chosen provider."""
    return server("mariadb", env=env, **kwargs)
