"""URLs built with quoting, read back the same by psycopg2 and kombu."""

import kombu
import pytest
import redis
from psycopg2.extensions import parse_dsn

from backing_services.urls import amqp_url, mysql_url, parse_url, postgres_url, redis_url

AWKWARD = [("root", "plain"), ("we ird@user", "p:a/s?s#w@rd%"), ("ünï", "çødé")]


@pytest.mark.parametrize(("user", "password"), AWKWARD)
def test_postgres_url_reads_back_in_psycopg2(user, password):
    url = postgres_url(user, password, "127.0.0.1", 5433, "my db/x")
    assert url.startswith("postgresql://")
    parsed = parse_dsn(url)
    assert (parsed["user"], parsed["password"], parsed["dbname"]) == (user, password, "my db/x")
    assert (parsed["host"], parsed["port"]) == ("127.0.0.1", "5433")


@pytest.mark.parametrize(("user", "password"), AWKWARD)
@pytest.mark.parametrize("vhost", ["/", "jobs", "a/b c"])
def test_amqp_url_reads_back_in_kombu(user, password, vhost):
    connection = kombu.Connection(amqp_url(user, password, "127.0.0.1", 5673, vhost))
    assert (connection.userid, connection.password) == (user, password)
    assert connection.virtual_host == vhost
    assert (connection.hostname, connection.port) == ("127.0.0.1", 5673)


@pytest.mark.parametrize(("user", "password"), AWKWARD)
def test_redis_url_reads_back_in_redis_py_and_kombu(user, password):
    url = redis_url(password, "127.0.0.1", 6390, 5, user)
    assert url.startswith("redis://")
    parsed = redis.connection.parse_url(url)
    assert (parsed.get("username"), parsed["password"], parsed["db"]) == (user, password, 5)
    assert (parsed["host"], parsed["port"]) == ("127.0.0.1", 6390)
    connection = kombu.Connection(url)
    assert (connection.password, connection.virtual_host) == (password, "5")


def test_redis_url_of_the_default_user_has_no_name():
    assert redis_url("pw", "h", 6379) == "redis://:pw@h:6379/0"
    assert "username" not in redis.connection.parse_url(redis_url("pw", "h", 6379))


@pytest.mark.parametrize(("user", "password"), AWKWARD)
def test_mysql_url_reads_back(user, password):
    url = mysql_url(user, password, "127.0.0.1", 3307, "my db/x")
    assert url.startswith("mysql://")
    parts = parse_url(url, 3306, "")
    assert (parts.user, parts.password, parts.host, parts.port, parts.path) == (
        user,
        password,
        "127.0.0.1",
        3307,
        "my db/x",
    )


def test_default_vhost_is_written_percent_2f():
    assert amqp_url("u", "p", "h", 1).endswith("@h:1/%2F")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p%40x@db:6543/main", ("u", "p@x", "db", 6543, "main")),
        ("postgres://u@db", ("u", "", "db", 5432, "postgres")),
        ("amqp://u:p@mq/%2F", ("u", "p", "mq", 5432, "/")),
    ],
)
def test_parse_url(url, expected):
    parts = parse_url(url, 5432, "postgres")
    assert (parts.user, parts.password, parts.host, parts.port, parts.path) == expected


def test_redact_hides_only_the_password():
    from backing_services.urls import redact

    assert redact("pgsql://root:s3cr%40t@db:5432/x") == "pgsql://root:***@db:5432/x"
    assert redact("amqp://guest@host//") == "amqp://guest@host//"
    assert redact("redis://:s3cr%40t@h:6379/0") == "redis://:***@h:6379/0"
