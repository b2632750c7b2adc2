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


def postgres_providers(env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide PostgreSQL, by mode."""
    env = os.environ if env is None else env
    return {
        "docker": Provider("docker", _engine(env), DockerPostgres),
        "local": Provider("local", _missing(postgres_bin_dir), LocalPostgres),
        "url": Provider(
            "url", _url_problem(POSTGRES_URL_ENV, env), lambda **kw: ExternalPostgres(env=env, **kw)
        ),
    }


def rabbitmq_providers(env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide RabbitMQ, by mode."""
    env = os.environ if env is None else env
    return {
        "docker": Provider("docker", _engine(env), DockerRabbitMQ),
        "local": Provider(
            "local", _missing(lambda: (rabbitmq_bin_dir(), epmd_path())), LocalRabbitMQ
        ),
        "url": Provider(
            "url", _url_problem(RABBITMQ_URL_ENV, env), lambda **kw: ExternalRabbitMQ(env=env, **kw)
        ),
    }


def redis_providers(env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide Redis, by mode."""
    env = os.environ if env is None else env
    return {
        "docker": Provider("docker", _engine(env), DockerRedis),
        "local": Provider("local", _missing(redis_server_path), LocalRedis),
        "url": Provider(
            "url", _url_problem(REDIS_URL_ENV, env), lambda **kw: ExternalRedis(env=env, **kw)
        ),
    }


def mariadb_providers(env: Mapping[str, str] | None = None) -> dict[str, Provider]:
    """The ways to provide MariaDB (or MySQL, by URL), by mode."""
    env = os.environ if env is None else env
    return {
        "docker": Provider("docker", _engine(env), DockerMariaDB),
        "local": Provider("local", _missing(mariadb_programs), LocalMariaDB),
        "url": Provider(
            "url", _url_problem(MYSQL_URL_ENV, env), lambda **kw: ExternalMariaDB(env=env, **kw)
        ),
    }


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


def postgres_server(*, env: Mapping[str, str] | None = None, **kwargs: Any) -> PostgresService:
    """A (not yet started) PostgreSQL service from the chosen provider."""
    return choose("PostgreSQL", postgres_providers(env), selected_mode(env)).build(**kwargs)


def rabbitmq_server(*, env: Mapping[str, str] | None = None, **kwargs: Any) -> RabbitMQService:
    """A (not yet started) RabbitMQ service from the chosen provider."""
    return choose("RabbitMQ", rabbitmq_providers(env), selected_mode(env)).build(**kwargs)


def redis_server(*, env: Mapping[str, str] | None = None, **kwargs: Any) -> RedisService:
    """A (not yet started) Redis service from the chosen provider."""
    return choose("Redis", redis_providers(env), selected_mode(env)).build(**kwargs)


def mariadb_server(*, env: Mapping[str, str] | None = None, **kwargs: Any) -> MariaDBService:
    """A (not yet started) MariaDB service from the chosen provider."""
    return choose("MariaDB", mariadb_providers(env), selected_mode(env)).build(**kwargs)
