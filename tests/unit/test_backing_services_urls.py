"""URLs built with quoting, read back the same by psycopg2 and kombu."""

import kombu
import pytest
from psycopg2.extensions import parse_dsn

from backing_services.urls import amqp_url, parse_url, postgres_url

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
