"""The choice of provider: MINESTRONE_SERVICES values, the automatic order, the failures."""

import pytest

from backing_services import choice
from backing_services.choice import Provider, choose, selected_mode
from backing_services.errors import ServiceError, ServiceUnavailable
from backing_services.external import (
    ExternalMariaDB,
    ExternalPostgres,
    ExternalRabbitMQ,
    ExternalRedis,
)


def fake_providers(*available: str) -> dict[str, Provider]:
    def make(mode: str) -> Provider:
        problem = None if mode in available else f"{mode} is missing here"
        return Provider(mode, lambda: problem, lambda **kw: (mode, kw))

    return {mode: make(mode) for mode in ("docker", "local", "url")}


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        (None, "auto"),
        ("", "auto"),
        ("auto", "auto"),
        ("docker", "docker"),
        ("local", "local"),
        ("url", "url"),
        (" Local ", "local"),
    ],
)
def test_selected_mode(value, mode):
    env = {} if value is None else {"MINESTRONE_SERVICES": value}
    assert selected_mode(env) == mode


def test_unknown_mode_is_an_error():
    with pytest.raises(ServiceError, match="MINESTRONE_SERVICES='podman'"):
        selected_mode({"MINESTRONE_SERVICES": "podman"})


@pytest.mark.parametrize(
    ("available", "chosen"),
    [
        (("docker", "local", "url"), "docker"),
        (("local", "url"), "local"),
        (("url",), "url"),
        (("docker", "url"), "docker"),
    ],
)
def test_auto_takes_docker_then_local_then_url(available, chosen):
    assert choose("PostgreSQL", fake_providers(*available), "auto").mode == chosen


@pytest.mark.parametrize("mode", ["docker", "local", "url"])
def test_an_explicit_mode_is_obeyed_even_when_others_are_available(mode):
    assert choose("RabbitMQ", fake_providers("docker", "local", "url"), mode).mode == mode


def test_an_explicit_mode_that_cannot_serve_does_not_fall_back():
    with pytest.raises(ServiceUnavailable) as caught:
        choose("RabbitMQ", fake_providers("docker", "url"), "local")
    message = str(caught.value)
    assert "MINESTRONE_SERVICES=local" in message
    assert "local is missing here" in message
    assert "- docker" not in message
    assert "apt-get install postgresql rabbitmq-server" in message


def test_auto_with_nothing_available_lists_every_reason_and_the_install_hint():
    with pytest.raises(ServiceUnavailable) as caught:
        choose("PostgreSQL", fake_providers(), "auto")
    message = str(caught.value)
    for mode in ("docker", "local", "url"):
        assert f"- {mode}: {mode} is missing here" in message
    assert "apt-get install postgresql rabbitmq-server" in message
    assert "MINESTRONE_POSTGRES_URL" in message


def test_url_mode_builds_external_servers_from_the_variables():
    env = {
        "MINESTRONE_SERVICES": "url",
        "MINESTRONE_POSTGRES_URL": "postgresql://app:secret@db.example:6543/main",
        "MINESTRONE_RABBITMQ_URL": "amqp://app:secret@mq.example:5673/jobs",
    }
    postgres = choice.postgres_server(env=env)
    rabbitmq = choice.rabbitmq_server(env=env)
    assert isinstance(postgres, ExternalPostgres)
    assert (postgres.host, postgres.port, postgres.database) == ("db.example", 6543, "main")
    assert isinstance(rabbitmq, ExternalRabbitMQ)
    assert (rabbitmq.host, rabbitmq.port, rabbitmq.vhost) == ("mq.example", 5673, "jobs")


def test_url_mode_without_the_variable_is_unavailable():
    with pytest.raises(ServiceUnavailable, match="MINESTRONE_RABBITMQ_URL is not set"):
        choice.rabbitmq_server(env={"MINESTRONE_SERVICES": "url"})


def test_the_real_providers_report_their_problems_as_text():
    providers = choice.postgres_providers({})
    assert providers["url"].problem() == "MINESTRONE_POSTGRES_URL is not set"
    assert set(providers) == {"docker", "local", "url"}


def test_url_mode_builds_redis_and_mariadb_from_the_variables():
    env = {
        "MINESTRONE_SERVICES": "url",
        "MINESTRONE_REDIS_URL": "redis://:secret@kv.example:6390/3",
        "MINESTRONE_MYSQL_URL": "mysql://app:secret@sql.example:3307/main",
    }
    redis_server = choice.redis_server(env=env)
    mariadb = choice.mariadb_server(env=env)
    assert isinstance(redis_server, ExternalRedis)
    assert (redis_server.host, redis_server.port, redis_server.db) == ("kv.example", 6390, 3)
    assert isinstance(mariadb, ExternalMariaDB)
    assert (mariadb.host, mariadb.port, mariadb.database) == ("sql.example", 3307, "main")


@pytest.mark.parametrize(
    ("build", "variable"),
    [
        (choice.redis_server, "MINESTRONE_REDIS_URL"),
        (choice.mariadb_server, "MINESTRONE_MYSQL_URL"),
    ],
)
def test_url_mode_without_the_new_variables_is_unavailable(build, variable):
    with pytest.raises(ServiceUnavailable, match=f"{variable} is not set") as caught:
        build(env={"MINESTRONE_SERVICES": "url"})
    assert "redis-server mariadb-server" in str(caught.value)


@pytest.mark.parametrize("kind", sorted(choice.KINDS))
def test_every_kind_has_every_mode_and_is_named_as_its_servers_are(kind):
    assert set(choice.providers(kind, {})) == {"docker", "local", "url"}
    spec = choice.KINDS[kind]
    assert spec.docker.kind == spec.local.kind == spec.external.kind == kind


def test_a_kind_by_name_says_which_in_its_message():
    with pytest.raises(
        ServiceUnavailable, match="nothing can provide MariaDB .MINESTRONE_SERVICES=url"
    ):
        choice.server("mariadb", env={"MINESTRONE_SERVICES": "url"})
