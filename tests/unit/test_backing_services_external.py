"""Servers named by URL variables: parsing, the reachability check, vhosts via the HTTP API."""

import io
import json
import time
import urllib.error

import pytest

from backing_services.errors import ServiceError, ServiceStartError, ServiceUnavailable
from backing_services.external import (
    ExternalMariaDB,
    ExternalPostgres,
    ExternalRabbitMQ,
    ExternalRedis,
)
from backing_services.ports import free_port
from tests.pace import within


def test_postgres_from_the_environment():
    env = {"MINESTRONE_POSTGRES_URL": "postgres://app:p%40ss@db:6543/main"}
    server = ExternalPostgres(env=env)
    assert (server.user, server.password, server.host, server.port) == ("app", "p@ss", "db", 6543)
    assert server.url == "postgresql://app:p%40ss@db:6543/main"
    assert server.database_url("t1") == "postgresql://app:p%40ss@db:6543/t1"


def test_missing_variable_and_wrong_scheme():
    with pytest.raises(ServiceUnavailable, match="MINESTRONE_POSTGRES_URL is not set"):
        ExternalPostgres(env={})
    with pytest.raises(ServiceError, match="must start with postgres or postgresql://"):
        ExternalPostgres("mysql://x@y/z", env={})


def test_an_unreachable_server_fails_start_quickly():
    server = ExternalPostgres(f"postgresql://u:p@127.0.0.1:{free_port()}/db", start_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ServiceStartError, match="was not ready after 0.3 s"):
        server.start()
    assert time.monotonic() - started < within(5)
    server.stop()


class FakeOpener:
    def __init__(self, error=None):
        self.requests = []
        self.error = error

    def __call__(self, request, timeout):
        self.requests.append(request)
        if self.error:
            raise self.error
        return io.BytesIO(b"")


def rabbit(opener, **kwargs):
    url = "amqp://app:secret@mq.example:5673/%2F"
    return ExternalRabbitMQ(url, env={}, opener=opener, **kwargs)


def test_vhosts_through_the_management_api():
    opener = FakeOpener()
    server = rabbit(opener)
    assert server.add_vhost("t/1") == "amqp://app:secret@mq.example:5673/t%2F1"
    server.delete_vhost("t/1")
    calls = [(r.get_method(), r.full_url) for r in opener.requests]
    assert calls == [
        ("PUT", "http://mq.example:15672/api/vhosts/t%2F1"),
        ("PUT", "http://mq.example:15672/api/permissions/t%2F1/app"),
        ("DELETE", "http://mq.example:15672/api/vhosts/t%2F1"),
    ]
    assert json.loads(opener.requests[1].data) == {"configure": ".*", "write": ".*", "read": ".*"}
    assert opener.requests[0].get_header("Authorization") == "Basic YXBwOnNlY3JldA=="


def test_management_url_from_the_environment():
    opener = FakeOpener()
    env = {
        "MINESTRONE_RABBITMQ_URL": "amqp://a:b@mq/%2F",
        "MINESTRONE_RABBITMQ_MANAGEMENT_URL": "https://admin.example/rabbit/",
    }
    ExternalRabbitMQ(env=env, opener=opener).add_vhost("v")
    assert opener.requests[0].full_url == "https://admin.example/rabbit/api/vhosts/v"


def test_no_management_api_is_a_clear_error():
    server = rabbit(FakeOpener(error=ConnectionRefusedError("refused")))
    with pytest.raises(ServiceError, match="enable the rabbitmq_management plugin|Enable the"):
        server.add_vhost("v")


def test_deleting_a_missing_vhost_is_fine_other_http_errors_are_not():
    not_found = urllib.error.HTTPError("u", 404, "Not Found", {}, None)
    rabbit(FakeOpener(error=not_found)).delete_vhost("gone")
    forbidden = urllib.error.HTTPError("u", 401, "Unauthorized", {}, None)
    with pytest.raises(ServiceError, match="HTTP 401 Unauthorized"):
        rabbit(FakeOpener(error=forbidden)).add_vhost("v")


def test_a_wrong_scheme_is_refused_without_showing_the_password():
    import pytest

    from backing_services.errors import ServiceError
    from backing_services.external import ExternalPostgres

    with pytest.raises(ServiceError) as error:
        ExternalPostgres(env={"MINESTRONE_POSTGRES_URL": "pgsql://root:s3cret@db:5432/x"})
    assert "s3cret" not in str(error.value)
    assert "pgsql://root:***@db:5432/x" in str(error.value)


def test_redis_from_the_environment():
    server = ExternalRedis(env={"MINESTRONE_REDIS_URL": "redis://:p%40ss@kv:6390/2"})
    assert (server.user, server.password, server.host, server.port, server.db) == (
        "",
        "p@ss",
        "kv",
        6390,
        2,
    )
    assert server.url == "redis://:p%40ss@kv:6390/2"
    assert server.db_url(9) == "redis://:p%40ss@kv:6390/9"
    assert ExternalRedis("rediss://:pw@kv", env={}).port == 6379


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("amqp://x@y/0", "MINESTRONE_REDIS_URL must start with redis or rediss://"),
        ("redis://:pw@kv/zero", "must end in a database number, not 'zero'"),
    ],
)
def test_redis_urls_it_cannot_use(url, message):
    with pytest.raises(ServiceError, match=message):
        ExternalRedis(url, env={})


def test_mariadb_from_the_environment():
    server = ExternalMariaDB(env={"MINESTRONE_MYSQL_URL": "mysql://app:p%40ss@sql:3307/main"})
    assert (server.user, server.password, server.host, server.port) == ("app", "p@ss", "sql", 3307)
    assert server.url == "mysql://app:p%40ss@sql:3307/main"
    assert ExternalMariaDB("mariadb://app:pw@sql", env={}).database == "minestrone"
    with pytest.raises(ServiceUnavailable, match="MINESTRONE_MYSQL_URL is not set"):
        ExternalMariaDB(env={})
    with pytest.raises(ServiceError, match="must start with mysql or mariadb://"):
        ExternalMariaDB("postgresql://a:b@c/d", env={})


def test_an_external_mariadb_makes_databases_with_its_own_account():
    ran = []

    class Recording(ExternalMariaDB):
        def _admin(self, statements, what):
            ran.append((list(statements), what))

    server = Recording("mysql://app:pw@sql:3307/main", env={})
    assert server.create_database("t_x") == "mysql://app:pw@sql:3307/t_x"
    assert ran == [
        (
            [
                (
                    "CREATE DATABASE IF NOT EXISTS `t_x` CHARACTER SET utf8mb4 "
                    "COLLATE utf8mb4_unicode_ci",
                    (),
                )
            ],
            "create database 't_x'",
        )
    ]


@pytest.mark.parametrize(
    "server",
    [
        lambda port: ExternalRedis(f"redis://:pw@127.0.0.1:{port}/0", start_timeout=0.3),
        lambda port: ExternalMariaDB(f"mysql://u:p@127.0.0.1:{port}/db", start_timeout=0.3),
    ],
)
def test_unreachable_redis_and_mariadb_fail_start_quickly(server):
    server = server(free_port())
    started = time.monotonic()
    with pytest.raises(ServiceStartError, match="was not ready after 0.3 s"):
        server.start()
    assert time.monotonic() - started < within(5)


def test_settings_of_servers_we_start_are_accepted_and_others_refused():
    ExternalRedis("redis://:pw@kv/0", env={}, appendfsync="everysec")
    ExternalMariaDB("mysql://a:b@sql/db", env={}, fsync=False, test_databases=False)
    with pytest.raises(TypeError, match="unexpected arguments: \\['appendfsyn'\\]"):
        ExternalRedis("redis://:pw@kv/0", env={}, appendfsyn="always")
