"""Servers named by URL variables: parsing, the reachability check, vhosts via the HTTP API."""

import io
import json
import time
import urllib.error

import pytest

from backing_services.errors import ServiceError, ServiceStartError, ServiceUnavailable
from backing_services.external import ExternalPostgres, ExternalRabbitMQ
from backing_services.ports import free_port


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
    assert time.monotonic() - started < 5
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
